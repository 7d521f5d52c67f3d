"""billow/marketing/referrals/sql.py: the referral job's charge and accrual inserts (COPY on
PostgreSQL, executemany on SQLite) store what ``bulk_create`` stores, amounts near 2**62."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import transaction

from billow.core.errors import BillowError
from billow.marketing.referrals import sql
from billow.marketing.referrals.models import ReferralAccrual, ReferralCharge
from tests.marketing.referrals.world import ReferralWorld
from tests.sql.conftest import BIG

pytestmark = pytest.mark.django_db

MOMENT = datetime(2027, 3, 1, 12, 30, tzinfo=UTC)


def _setup() -> tuple[Any, Any, Any]:
    world = ReferralWorld()
    program = world.program()
    rule = world.rule(program)
    partner = world.partner(program)
    client = world.referral(partner, date(2025, 1, 2))
    referral = world.live_referral(client)
    return rule, partner, referral


def _attrs(model: Any, fields: tuple[str, ...]) -> list[str]:
    return [model._meta.get_field(f).get_attname() for f in fields]


def test_the_charge_and_accrual_inserts_store_what_bulk_create_stores(binding: str) -> None:
    rule, partner, referral = _setup()
    charges = [
        (9001, referral.pk, 5, date(2025, 1, 1), date(2025, 2, 1), BIG, "USD", MOMENT, True, None),
        (
            9002,
            referral.pk,
            5,
            date(2025, 2, 1),
            date(2025, 3, 1),
            -3,
            "USD",
            MOMENT,
            False,
            MOMENT,
        ),
    ]
    accruals = [(rule.pk, partner.pk, referral.pk, 9001, BIG, BIG - 1, 7, date(2025, 1, 1))]
    stored = []
    for write in ("sql", "orm"):
        with transaction.atomic():
            if write == "sql":
                sql.insert_charge_rows(charges)
                sql.insert_accrual_rows(accruals)
            else:
                ReferralCharge.objects.bulk_create(
                    ReferralCharge(
                        **dict(zip(_attrs(ReferralCharge, sql.CHARGE_FIELDS), r, strict=True))
                    )
                    for r in charges
                )
                ReferralAccrual.objects.bulk_create(
                    ReferralAccrual(
                        **dict(zip(_attrs(ReferralAccrual, sql.ACCRUAL_FIELDS), r, strict=True))
                    )
                    for r in accruals
                )
            stored.append(
                (
                    list(
                        ReferralCharge.objects.order_by("id").values_list(
                            *_attrs(ReferralCharge, sql.CHARGE_FIELDS)
                        )
                    ),
                    list(
                        ReferralAccrual.objects.values_list(
                            *_attrs(ReferralAccrual, sql.ACCRUAL_FIELDS)
                        )
                    ),
                )
            )
            transaction.set_rollback(True)
    assert stored[0] == stored[1]
    assert stored[0][0][0][5] == BIG and stored[0][0][1][9] == MOMENT


def test_an_amount_past_the_64_bit_range_is_refused_and_nothing_written(binding: str) -> None:
    _, _, referral = _setup()
    bad = [
        (9001, referral.pk, 5, date(2025, 1, 1), date(2025, 2, 1), 2**63, "USD", MOMENT, True, None)
    ]
    with pytest.raises(BillowError) as refused:
        sql.insert_charge_rows(bad)
    assert refused.value.code == "amount_out_of_range"
    assert not ReferralCharge.objects.exists()
