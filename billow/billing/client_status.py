"""Client status (issue 13.2, reference §1.2): a client is **active** while it has an active
service or its balance moved (a ledger entry on a balance account) within
``BILLOW_CLIENT_ACTIVE_DAYS`` days; otherwise **inactive**.

:func:`derive_client_statuses` computes it (the admin's client page shows it live);
:func:`refresh_client_statuses` keeps ``Client.status`` (lists, filters, the API) in step through
the accounts action, hourly (``jobs.schedule``) and after the demo is seeded."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef

from billow.accounts.actions import set_client_status
from billow.accounts.models import Client, ClientStatus
from billow.core import clock
from billow.core.actors import Actor
from billow.ledger.models import AccountKind, LedgerEntry
from billow.services.models import Service
from billow.services.states import ServiceStatus


def active_days() -> int:
    return int(getattr(settings, "BILLOW_CLIENT_ACTIVE_DAYS", 90))


def derive_client_statuses(
    *, client_ids: Iterable[int] | None = None, now: datetime | None = None
) -> dict[int, str]:
    """Client id -> the status it should have at ``now`` (one query)."""
    since = clock.now(now) - timedelta(days=active_days())
    has_service = Service.objects.filter(client_id=OuterRef("pk"), status=ServiceStatus.ACTIVE)
    moved = LedgerEntry.objects.filter(
        account__client_id=OuterRef("pk"),
        account__kind=AccountKind.CLIENT_BALANCE,
        transaction__created_at__gte=since,
    )
    rows = Client.objects.all()
    if client_ids is not None:
        rows = rows.filter(pk__in=list(client_ids))
    rows = rows.annotate(has_service=Exists(has_service), moved=Exists(moved))
    return {
        pk: ClientStatus.ACTIVE if (service or money) else ClientStatus.INACTIVE
        for pk, service, money in rows.values_list("pk", "has_service", "moved")
    }


def refresh_client_statuses(*, now: datetime | None = None) -> int:
    """Set every client's stored status to the derived one; returns how many changed (each
    change is an accounts ``client.status_changed`` event by the job actor)."""
    derived = derive_client_statuses(now=now)
    stored = dict(Client.objects.values_list("pk", "status"))
    actor = Actor.job("client_statuses")
    changed = 0
    for client in Client.objects.filter(
        pk__in=[pk for pk, s in derived.items() if stored[pk] != s]
    ):
        set_client_status(client=client, status=derived[client.pk], actor=actor, now=now)
        changed += 1
    return changed
