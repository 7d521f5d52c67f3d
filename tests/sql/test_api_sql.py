"""billow/api/sql.py: the token lookup, the idempotency claim and completion and the throttle
counter give the rows (and instances) their ORM equivalents give, with values near 2**62."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.db.models import Model
from django.forms.models import model_to_dict

from billow.accounts.models import Client, ClientUser
from billow.api import sql
from billow.api.actions import create_api_token
from billow.api.models import ApiToken, IdempotencyRecord, ThrottleCounter
from billow.api.selectors import get_active_token
from tests.api.conftest import CLIENT_SCOPES, Tenant, make_tenant
from tests.sql.conftest import BIG

pytestmark = pytest.mark.django_db


def row(obj: Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


@pytest.fixture
def tenant(db: None) -> Tenant:
    return make_tenant("A")


def test_the_token_lookup_loads_what_select_related_loads(binding: str, tenant: Tenant) -> None:
    token, raw = create_api_token(user=tenant.owner.user, name="t", scopes=CLIENT_SCOPES)
    by_sql = get_active_token(raw)
    assert by_sql is not None
    by_orm = ApiToken.objects.select_related("user__client_user__client").get(pk=token.pk)
    assert row(by_sql) == row(by_orm)
    assert row(by_sql.user) == row(by_orm.user)
    client_user: ClientUser = by_sql.user.client_user  # cached: no query
    assert row(client_user) == row(by_orm.user.client_user)
    client: Client = client_user.client
    assert row(client) == row(by_orm.user.client_user.client)


def test_the_token_lookup_of_a_staff_user_has_no_client_user(binding: str, staff_user: Any) -> None:
    token, raw = create_api_token(user=staff_user, name="t", scopes=["staff:read"])
    by_sql = get_active_token(raw)
    assert by_sql is not None and row(by_sql) == row(ApiToken.objects.get(pk=token.pk))
    with pytest.raises(ClientUser.DoesNotExist):
        by_sql.user.client_user  # noqa: B018 - as select_related leaves it


def test_the_idempotency_claim_and_completion_write_the_orms_rows(
    binding: str, tenant: Tenant
) -> None:
    user, token = tenant.owner.user, tenant.token
    body = {"amount_minor": BIG, "lines": [-BIG, "x"], "ok": True}
    stored = []
    for by in ("sql", "orm"):
        with transaction.atomic():
            record = IdempotencyRecord(
                user=user,
                token=token,
                key="k",
                method="POST",
                path="/api/v1/x/",
                fingerprint="f" * 64,
                created_at=tenant.service.created_at,
            )
            if by == "sql":
                record.pk = sql.insert_idempotency_claim(record)
                claimed = model_to_dict(IdempotencyRecord.objects.get(pk=record.pk))
                sql.complete_idempotency_record(record.pk, 201, body, record.created_at)
            else:
                record.save()
                claimed = model_to_dict(IdempotencyRecord.objects.get(pk=record.pk))
                IdempotencyRecord.objects.filter(pk=record.pk).update(
                    response_status=201, response_body=body, completed_at=record.created_at
                )
            done = model_to_dict(IdempotencyRecord.objects.get(pk=record.pk))
            stored.append((claimed, done))
            transaction.set_rollback(True)
    for claimed, done in stored:
        claimed.pop("id")
        done.pop("id")
    assert stored[0] == stored[1]
    assert stored[0][1]["response_body"] == body


def orm_hit(key: str, window: int, duration: int) -> tuple[int, int]:
    """The throttle's two-window count, step by step in the ORM (the reference)."""
    counter, created = ThrottleCounter.objects.select_for_update().get_or_create(
        key=key, defaults={"window": window, "count": 1, "previous": 0}
    )
    if created:
        return 1, 0
    if counter.window >= window:
        counter.count += 1
    else:
        counter.previous = counter.count if counter.window == window - duration else 0
        counter.count, counter.window = 1, window
    counter.save()
    return counter.count, counter.previous


def test_the_throttle_counter_counts_as_the_orm_reference(binding: str) -> None:
    duration = 60
    start = BIG - BIG % duration  # a window start near 2**62 (the column is a BIGINT)
    # this window, again, the next one, one skipped, then a late request of an older window
    windows = [start, start, start + 60, start + 60, start + 180, start + 120]
    results = []
    for hit in (sql.hit_throttle, orm_hit):
        with transaction.atomic():
            counts = [hit("user:1", w, duration) for w in windows]
            stored = list(ThrottleCounter.objects.values_list("key", "window", "count", "previous"))
            results.append((counts, stored))
            transaction.set_rollback(True)
    assert results[0] == results[1]
    assert results[0][0] == [(1, 0), (2, 0), (1, 2), (2, 2), (1, 0), (2, 0)]
