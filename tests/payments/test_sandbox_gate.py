"""The sandbox gateway pays anything, so production refuses it: configuring a sandbox method, or
using one configured earlier, gives ``sandbox_not_allowed`` unless DEBUG or
PAYMENTS_ALLOW_SANDBOX (tests/conftest.py turns the switch on for the rest of the suite)."""

from __future__ import annotations

from typing import Any

import pytest

from billow.accounts.models import Client, Provider
from billow.core.errors import BillowError
from billow.core.money import Money
from billow.payments import actions
from billow.payments.models import PaymentMethod
from tests.payments.conftest import db_state, make_method

pytestmark = pytest.mark.django_db


def test_a_sandbox_method_cannot_be_configured_in_production(
    provider: Provider, settings: Any
) -> None:
    settings.DEBUG, settings.PAYMENTS_ALLOW_SANDBOX = False, False
    before = db_state()
    with pytest.raises(BillowError) as refused:
        make_method(provider, "sandbox", secrets={"webhook_secret": "x"})
    assert refused.value.code == "sandbox_not_allowed"
    assert db_state() == before


def test_a_sandbox_method_configured_earlier_cannot_take_payments(
    client_account: Client, sandbox: PaymentMethod, settings: Any
) -> None:
    payment = actions.create_payment(
        client=client_account, amount=Money(500, "USD"), method=sandbox
    )
    settings.DEBUG, settings.PAYMENTS_ALLOW_SANDBOX = False, False
    before = db_state()
    with pytest.raises(BillowError) as refused:
        actions.start_payment(payment=payment)
    assert refused.value.code == "sandbox_not_allowed"
    assert db_state() == before


@pytest.mark.parametrize(("debug", "switch"), [(True, False), (False, True)])
def test_debug_or_the_switch_allows_it(
    provider: Provider, settings: Any, debug: bool, switch: bool
) -> None:
    settings.DEBUG, settings.PAYMENTS_ALLOW_SANDBOX = debug, switch
    assert make_method(provider, "sandbox", secrets={"webhook_secret": "x"}).pk is not None
