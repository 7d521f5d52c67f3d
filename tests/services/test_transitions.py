"""The one transition table: every allowed move works and writes an event; forbidden ones
change nothing."""

from __future__ import annotations

import pytest

from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.services import actions
from billow.services.models import Service, ServiceEvent
from billow.services.states import ALLOWED_TRANSITIONS, SUSPENDED, ServiceStatus, can_transition

from .conftest import T0, services_counts, snapshot

S = ServiceStatus
ALLOWED = sorted((a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets)
FORBIDDEN = [
    (S.ORDERED, S.ACTIVE),
    (S.ORDERED, S.SUSPENDED_BY_STAFF),
    (S.ACTIVE, S.ORDERED),
    (S.ACTIVE, S.DELETED),
    (S.SUSPENDED_ABUSE, S.DELETED),
    (S.CONFIGURATION_REQUIRED, S.ACTIVE),
    (S.NOT_AVAILABLE, S.ACTIVE),
    (S.FAILED, S.ORDERED),
    (S.ACTIVE, S.ACTIVE),
]


def test_table_covers_every_status_and_deleted_is_terminal():
    assert set(ALLOWED_TRANSITIONS) == set(S.values)
    assert ALLOWED_TRANSITIONS[S.DELETED] == frozenset()
    assert len(ALLOWED) == 69  # 4+2+2+11+7+5*7+8
    for a, b in FORBIDDEN:
        assert not can_transition(a, b)


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "to"), ALLOWED)
def test_every_allowed_move_is_made_and_audited(service: Service, current: str, to: str):
    Service.objects.filter(pk=service.pk).update(status=current)
    service.refresh_from_db()
    sub = "open" if to == S.IN_PROGRESS else ""
    actions.transition_service(
        service=service, to=to, sub_state=sub, actor=Actor.system(), reason="test"
    )
    service.refresh_from_db()
    assert (service.status, service.sub_state, service.updated_at) == (to, sub, T0)
    event = ServiceEvent.objects.filter(service=service).latest("id")
    assert (event.from_status, event.to_status, event.type) == (
        current,
        to,
        "service.status_changed",
    )
    assert (event.actor_kind, event.data["reason"], event.created_at) == ("system", "test", T0)


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "to"), FORBIDDEN)
def test_forbidden_moves_change_nothing(service: Service, current: str, to: str):
    Service.objects.filter(pk=service.pk).update(status=current)
    before, counts = snapshot(service), services_counts()
    with pytest.raises(BillowError) as err:
        actions.transition_service(service=Service.objects.get(pk=service.pk), to=to, actor=None)
    assert err.value.code == "invalid_transition"
    assert (snapshot(service), services_counts()) == (before, counts)


@pytest.mark.django_db
def test_deleted_service_refuses_every_move(service: Service):
    Service.objects.filter(pk=service.pk).update(status=S.DELETED)
    before, counts = snapshot(service), services_counts()
    for to in S.values:
        with pytest.raises(BillowError) as err:
            actions.transition_service(
                service=Service.objects.get(pk=service.pk), to=to, sub_state="open", actor=None
            )
        assert err.value.code == "service_deleted"
    assert (snapshot(service), services_counts()) == (before, counts)


@pytest.mark.django_db
def test_in_progress_needs_a_sub_state(service: Service):
    before = snapshot(service)
    with pytest.raises(BillowError) as err:
        actions.transition_service(service=service, to=S.IN_PROGRESS, actor=None)
    assert err.value.code == "invalid_sub_state"
    assert snapshot(service) == before


@pytest.mark.django_db
def test_dates_are_stamped(service: Service):
    from datetime import timedelta

    t = [T0 + timedelta(days=i) for i in range(6)]
    actions.transition_service(
        service=service, to=S.IN_PROGRESS, sub_state="open", actor=None, now=t[0]
    )
    actions.transition_service(service=service, to=S.ACTIVE, actor=None, now=t[1])
    actions.transition_service(service=service, to=S.SUSPENDED_NONPAYMENT, actor=None, now=t[2])
    actions.transition_service(service=service, to=S.SUSPENDED_ABUSE, actor=None, now=t[3])
    assert (service.opened_at, service.suspended_at) == (t[1], t[2])  # first suspension kept
    actions.transition_service(service=service, to=S.ACTIVE, actor=None, now=t[4])
    assert (service.opened_at, service.suspended_at) == (t[1], None)  # opened once
    actions.transition_service(
        service=service, to=S.IN_PROGRESS, sub_state="delete", actor=None, now=t[5]
    )
    actions.transition_service(service=service, to=S.DELETED, actor=None, now=t[5])
    service.refresh_from_db()
    assert (service.status, service.deleted_at, service.sub_state) == (S.DELETED, t[5], "")
    assert S.SUSPENDED_ABUSE in SUSPENDED
