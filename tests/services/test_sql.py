"""``services.sql.set_paid_until`` (an array UPDATE on PostgreSQL, the ORM elsewhere) moves
exactly the services given, on either database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from billow.services import actions
from billow.services.models import Service
from billow.services.sql import set_paid_until

NOW = datetime(2027, 3, 2, 9, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_set_paid_until_moves_only_the_given_services(client, tariff) -> None:
    made = [
        actions.create_service(
            client=client,
            tariff=tariff,
            period="1m",
            currency="USD",
            parameters={"os": "debian-12"},
        )
        for _ in range(3)
    ]
    untouched = Service.objects.values_list("paid_until", "updated_at").get(pk=made[2].pk)
    set_paid_until([made[0].pk, made[1].pk], date(2027, 4, 2), NOW)
    rows = dict(Service.objects.values_list("pk", "paid_until"))
    assert rows[made[0].pk] == rows[made[1].pk] == date(2027, 4, 2)
    assert Service.objects.get(pk=made[0].pk).updated_at == NOW
    assert Service.objects.values_list("paid_until", "updated_at").get(pk=made[2].pk) == untouched


@pytest.mark.django_db
def test_set_paid_until_with_no_ids_changes_nothing(client, tariff) -> None:
    svc = actions.create_service(
        client=client, tariff=tariff, period="1m", currency="USD", parameters={"os": "debian-12"}
    )
    before = Service.objects.values_list("paid_until", "updated_at").get(pk=svc.pk)
    actions.set_paid_until({}, now=NOW)
    set_paid_until([], date(2027, 4, 2), NOW)
    assert Service.objects.values_list("paid_until", "updated_at").get(pk=svc.pk) == before
