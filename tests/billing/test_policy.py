"""A client's billing policy: one of its groups' (the lowest group id), else the provider's,
else the defaults."""

from __future__ import annotations

import pytest

from billow.accounts.models import ClientGroup, ClientGroupMembership
from billow.billing.models import BillingPolicy
from billow.billing.terms import get_billing_policy, policies_for_clients
from tests.billing.world import World

pytestmark = pytest.mark.django_db


def test_group_policy_beats_the_providers_and_defaults_fill_the_rest() -> None:
    world = World()
    resellers = ClientGroup.objects.create(name="Resellers")
    vip = ClientGroup.objects.create(name="VIP")
    BillingPolicy.objects.create(provider=world.provider, currency="USD", invoice_due_days=7)
    BillingPolicy.objects.create(
        provider=world.provider, client_group=vip, currency="USD", invoice_due_days=30
    )
    BillingPolicy.objects.create(
        provider=world.provider, client_group=resellers, currency="USD", invoice_due_days=21
    )
    plain, in_both, in_vip = world.client(), world.client(), world.client()
    ClientGroupMembership.objects.create(client=in_both, group=resellers)
    ClientGroupMembership.objects.create(client=in_both, group=vip)
    ClientGroupMembership.objects.create(client=in_vip, group=vip)
    p = world.provider.pk
    assert get_billing_policy(plain.pk, p, "USD").invoice_due_days == 7
    assert get_billing_policy(in_both.pk, p, "USD").invoice_due_days == 21  # lowest group id
    assert get_billing_policy(in_vip.pk, p, "USD").invoice_due_days == 30
    assert get_billing_policy(plain.pk, p, "EUR").invoice_due_days == 14  # no row: defaults
    many = policies_for_clients([plain.pk, in_both.pk, in_vip.pk], p, "USD")
    assert [many[c.pk].invoice_due_days for c in (plain, in_both, in_vip)] == [7, 21, 30]
