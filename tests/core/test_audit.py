from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps

from billow.core.actors import Actor
from billow.core.audit import AuditEvent, audit_kwargs
from billow.core.clock import FixedClock, use_clock
from billow.core.errors import ValidationError

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_audit_event_is_abstract():
    assert AuditEvent._meta.abstract
    names = {f.name for f in AuditEvent._meta.get_fields()}
    assert names == {"actor_kind", "actor_id", "type", "data", "created_at"}
    assert AuditEvent._meta.get_field("created_at").db_index


def test_audit_kwargs_from_an_actor():
    kwargs = audit_kwargs(Actor.api_token(5), "payment.refunded", {"amount_minor": 100}, now=T0)
    assert kwargs == {
        "actor_kind": "api_token",
        "actor_id": "5",
        "type": "payment.refunded",
        "data": {"amount_minor": 100},
        "created_at": T0,
    }


def test_audit_kwargs_defaults_to_system_and_the_clock():
    with use_clock(FixedClock(T0)):
        kwargs = audit_kwargs(None, "billing.run_started")
    assert kwargs["actor_kind"] == "system"
    assert kwargs["actor_id"] == ""
    assert kwargs["data"] == {}
    assert kwargs["created_at"] == T0


@pytest.mark.parametrize(
    "event_type", ["", "Service.Suspended", "service suspended", "a." * 40, "9x"]
)
def test_bad_event_type(event_type):
    with pytest.raises(ValidationError) as exc:
        audit_kwargs(None, event_type)
    assert exc.value.code == "invalid_event_type"


def test_data_must_be_json():
    with pytest.raises(ValidationError) as exc:
        audit_kwargs(None, "x.y", {"obj": object()})
    assert exc.value.code == "invalid_event_data"


@pytest.mark.django_db(transaction=True)
def test_a_concrete_event_table_round_trips():
    with isolate_apps("billow.core"):

        class ThingEvent(AuditEvent):
            thing = models.CharField(max_length=10)

            class Meta:
                app_label = "core"

        with connection.schema_editor() as editor:
            editor.create_model(ThingEvent)
        try:
            data = {"price": Decimal("1.50"), "on": date(2025, 3, 1), "n": 2}
            ThingEvent.objects.create(
                thing="a", **audit_kwargs(Actor.job("janitor"), "thing.fixed", data, now=T0)
            )
            with use_clock(FixedClock(T0)):
                ThingEvent.objects.create(thing="b", actor_kind="system", type="thing.seen")
            rows = list(ThingEvent.objects.order_by("id").values())
            assert [(r["thing"], r["actor_kind"], r["actor_id"], r["type"]) for r in rows] == [
                ("a", "job", "", "thing.fixed"),
                ("b", "system", "", "thing.seen"),
            ]
            assert rows[0]["data"] == {"price": "1.50", "on": "2025-03-01", "n": 2}
            assert [r["created_at"] for r in rows] == [T0, T0]
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(ThingEvent)
