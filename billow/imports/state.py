"""What the plan needs to know about the database: earlier runs' records, taken logins, the
status of the services imported before (reads only)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model

from billow.accounts.validators import normalize_email
from billow.imports.bundle import Bundle
from billow.imports.models import ImportedRecord
from billow.imports.plan import ImportState, Record
from billow.services.models import Service

CHUNK = 5000


def load_state(bundle: Bundle) -> ImportState:
    records = {
        (kind, source_id): Record(target_id, print_)
        for kind, source_id, target_id, print_ in ImportedRecord.objects.filter(
            source=bundle.source
        ).values_list("kind", "source_id", "target_id", "fingerprint")
    }
    emails = sorted({normalize_email(u.email) for u in bundle.users})
    service_ids = [r.target_id for (k, _s), r in records.items() if k == "service" and r.target_id]
    return ImportState(
        records=records,
        taken_emails=frozenset(_taken(emails)),
        service_statuses=dict(_statuses(service_ids)),
    )


def _taken(emails: list[str]) -> Iterable[str]:
    users = get_user_model().objects
    for start in range(0, len(emails), CHUNK):
        yield from users.filter(username__in=emails[start : start + CHUNK]).values_list(
            "username", flat=True
        )


def _statuses(service_ids: list[int]) -> Iterable[tuple[int, str]]:
    for start in range(0, len(service_ids), CHUNK):
        yield from Service.objects.filter(pk__in=service_ids[start : start + CHUNK]).values_list(
            "pk", "status"
        )
