"""Scenarios: the overage of a metered addon charged by the billing run (issue 14).

A 10.00/month VPS whose "Outgoing traffic" includes 100 GiB a month, then 0.05 per GiB. The run
on the 1st charges the closed month's overage as its own expense and invoice line, taxed like
every charge; usage of the new month waits for its own close; reruns charge nothing twice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billow.invoicing.models import Invoice, InvoiceLine, TaxRule
from billow.ledger.selectors import get_reconcile_report
from tests.billing.world import World
from tests.scenarios.usage_world import Metered, at

pytestmark = pytest.mark.django_db

MARCH = date(2025, 3, 1)
APRIL = date(2025, 4, 1)
MAY = date(2025, 5, 1)


def test_overage_of_march_is_charged_on_april_1st_and_april_usage_waits(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given 60 GiB on 10 March, 70 GiB late on 31 March and 20 GiB just after midnight on 1 April
    m = Metered(django_capture_on_commit_callbacks, balance=10_000)
    m.send(at(date(2025, 3, 10), 13), (at(date(2025, 3, 10)), 60))
    m.send(at(date(2025, 3, 31), 23, 50), (at(date(2025, 3, 31), 23, 30), 70))
    m.send(at(APRIL, 0, 40), (at(APRIL, 0, 30), 20))
    # when the run of 1 April (and a rerun, and the next day's run) happen
    m.bill(APRIL)
    m.bill(APRIL)
    m.bill(date(2025, 4, 2))
    # then March's 30 GiB over cost 30 x 0.05 = 1.50, charged once beside the renewal
    assert m.expenses() == [
        (f"charge:{m.service.pk}:2025-03-01", "period", MARCH, APRIL, 1000),
        (f"charge:{m.service.pk}:2025-04-01", "period", APRIL, MAY, 1000),
        (f"usage:{m.service.pk}:{m.addon.pk}:2025-03-01:150", "usage", MARCH, APRIL, 150),
    ]
    assert m.balance() == 10_000 - 1000 - 1000 - 150
    assert m.rollups()["charged"] == [(MARCH, 150)]
    # and the run's invoice has a line for the renewal and one for the overage
    (invoice,) = Invoice.objects.filter(client=m.client, issued_at__date=APRIL)
    lines = list(InvoiceLine.objects.filter(invoice=invoice).order_by("id"))
    assert [x.net_minor for x in lines] == [1000, 150]
    assert "Outgoing traffic" in lines[1].description
    assert "2025-03-01 - 2025-03-31" in lines[1].description
    assert invoice.total_minor == 1150
    # when May comes, April's 20 GiB are within the 100 included: the renewal only
    m.bill(MAY)
    assert [e[1] for e in m.expenses()] == ["period", "period", "usage", "period"]
    assert m.balance() == 10_000 - 3000 - 150
    assert get_reconcile_report().ok


def test_overage_is_taxed_like_every_charge(django_capture_on_commit_callbacks: Any) -> None:
    # given 20 % VAT added on top for German clients, and 345.5 GiB used in March
    world = World()
    TaxRule.objects.create(
        provider=world.provider, name="VAT", country="DE", rate=Decimal(20), included=False
    )
    m = Metered(django_capture_on_commit_callbacks, world=world, balance=10_000, country="DE")
    m.send(at(date(2025, 3, 20)), (at(date(2025, 3, 20), 9), "345.5"))
    # when the run of 1 April happens
    m.bill(APRIL)
    # then 245.5 GiB x 0.05 = 12.275 -> 12.28 is charged with 2.46 VAT on top (rounded once)
    assert m.overage() == [(MARCH, APRIL, 1228, 246)]
    assert m.balance() == 10_000 - 1200 - 1200 - 1228 - 246
    assert get_reconcile_report().ok
