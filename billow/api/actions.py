"""API writes: personal tokens (create, revoke, mark used) and idempotency records.

Token actions write an ``AccountEvent`` (client set when the user acts for one) in the same
transaction; refusals write nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from billow.accounts.models import AccountEvent
from billow.accounts.selectors import get_client_for_user, get_client_user
from billow.api import errors, sql
from billow.api.models import ApiToken, IdempotencyRecord
from billow.api.scopes import CLIENT_FAMILIES, SCOPES, STAFF_FAMILY, family_of
from billow.core import clock, rows
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs

TOKEN_PREFIX = "blw"  # noqa: S105 - the public token prefix, not a secret
#: ``last_used_at`` is written at most this often per token (a write per request would cost).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def check_scopes(user: Any, scopes: Iterable[str]) -> list[str]:
    """The sorted, de-duplicated scopes, or ``invalid_scope`` / ``scope_not_allowed`` (a staff
    scope for a non-staff user; a client scope for a user of no client, or one whose family
    needs a permission the client user does not hold)."""
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise errors.InvalidScope("Unknown scope(s): " + ", ".join(unknown), scopes=unknown)
    if not wanted:
        raise errors.InvalidScope("A token needs at least one scope", scopes=[])
    families = {family_of(s) for s in wanted}
    if STAFF_FAMILY in families and not user.is_staff:
        raise errors.ScopeNotAllowed("Staff scopes need a staff user", scopes=wanted)
    if families & set(CLIENT_FAMILIES):
        client_user = get_client_user(user)
        if client_user is None:
            raise errors.ScopeNotAllowed("Client scopes need a user of a client", scopes=wanted)
        # A token claims no more than its user may do (the permission check at each request
        # would refuse the rest anyway, but the token should not say it can).
        held = set(client_user.permissions or [])
        beyond = [
            s
            for s in wanted
            if not client_user.is_owner and CLIENT_FAMILIES.get(family_of(s)) not in (None, *held)
        ]
        if beyond:
            raise errors.ScopeNotAllowed(
                "Your permissions do not cover scope(s): " + ", ".join(beyond), scopes=beyond
            )
    return wanted


def create_api_token(
    *,
    user: Any,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the secret token (shown once).

    Guarantees: only the SHA-256 of the token is stored; scopes are valid for the user
    (``invalid_scope``, ``scope_not_allowed``); ``expires_at`` lies in the future.
    """
    moment = clock.now(now)
    clean = check_scopes(user, scopes)
    name = (name or "").strip()[:100]
    if not name:
        raise errors.ApiValidationError("A token needs a name", code="token_name_required")
    if expires_at is not None and expires_at <= moment:
        raise errors.ApiValidationError("expires_at must be in the future", code="invalid_expiry")
    with transaction.atomic():
        for _attempt in range(5):  # prefixes are random; a clash is retried
            prefix = secrets.token_hex(6)
            raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
            try:
                with transaction.atomic():
                    token = ApiToken.objects.create(
                        user=user,
                        name=name,
                        prefix=prefix,
                        token_hash=hash_token(raw),
                        scopes=clean,
                        created_at=moment,
                        expires_at=expires_at,
                    )
                break
            except IntegrityError:
                continue
        else:  # pragma: no cover - 2**48 prefixes
            raise errors.ApiValidationError("could not allocate a token prefix")
        _event(actor, "api_token.created", token, {"name": name, "scopes": clean}, moment)
    return token, raw


def revoke_api_token(
    *, token: ApiToken, actor: Actor | None = None, now: datetime | None = None
) -> ApiToken:
    """Revoke ``token`` for good (``token_revoked`` when it was revoked already)."""
    moment = clock.now(now)
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=moment
        )
        if not updated:
            raise errors.TokenRevoked("The token was revoked already")
        token.revoked_at = moment
        _event(actor, "api_token.revoked", token, {"name": token.name}, moment)
    return token


def record_token_use(*, token: ApiToken, now: datetime | None = None) -> None:
    """Stamp ``last_used_at`` (one conditional UPDATE, at most once per resolution)."""
    moment = clock.now(now)
    if token.last_used_at is not None and moment - token.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=moment)
    token.last_used_at = moment


def _event(
    actor: Actor | None, type: str, token: ApiToken, data: dict[str, Any], now: datetime
) -> None:
    client = get_client_for_user(token.user)
    payload = {"token_id": token.pk, "user_id": token.user_id, **data}
    AccountEvent.objects.create(client=client, **audit_kwargs(actor, type, payload, now=now))


# --- idempotency ------------------------------------------------------------------------------


def stale_after() -> timedelta:
    """How long a claim may stay unanswered before a repeat may take it over
    (``settings.API_IDEMPOTENCY_STALE_SECONDS``, default 300): a request that crashed after
    its claim committed must not answer ``idempotency_key_in_progress`` for ever."""
    return timedelta(seconds=int(getattr(settings, "API_IDEMPOTENCY_STALE_SECONDS", 300)))


def retention() -> timedelta:
    """How long records are kept (``settings.API_IDEMPOTENCY_RETENTION_HOURS``, default 168)."""
    return timedelta(hours=int(getattr(settings, "API_IDEMPOTENCY_RETENTION_HOURS", 168)))


def claim_idempotency_key(
    *,
    user: Any,
    token: ApiToken | None,
    key: str,
    method: str,
    path: str,
    fingerprint: str,
    now: datetime | None = None,
) -> tuple[IdempotencyRecord, bool]:
    """Insert the record for ``(user, key)``; returns (record, True) when this request claimed
    the key, else (the existing record, False). The unique constraint decides races.

    A claim still unanswered after ``stale_after()`` is taken over as if it had been released
    (its request crashed after the claim committed): the record gets this request's method,
    path, fingerprint and claim time, and a conditional UPDATE decides between concurrent
    takers."""
    moment = clock.now(now)
    # In autocommit (the usual request) a failed INSERT harms nothing, so it needs no
    # transaction of its own (two round trips less); inside one, a savepoint keeps it usable.
    conn = rows.connection_for(IdempotencyRecord)
    guard = transaction.atomic(using=conn.alias) if conn.in_atomic_block else nullcontext()
    record = IdempotencyRecord(
        user=user,
        token=token,
        key=key,
        method=method,
        path=path[:500],
        fingerprint=fingerprint,
        created_at=moment,
    )
    try:
        with guard:
            # Hand-written (api.sql): it runs on every idempotent request, and the ORM's INSERT
            # costs more to build than to run.
            record.pk = sql.insert_idempotency_claim(record)
        record._state.adding = False
        record._state.db = conn.alias
        return record, True
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.get(user=user, key=key)
    if existing.response_status is not None or existing.created_at > moment - stale_after():
        return existing, False
    taken = IdempotencyRecord.objects.filter(
        pk=existing.pk, response_status__isnull=True, created_at=existing.created_at
    ).update(
        token=token,
        method=record.method,
        path=record.path,
        fingerprint=fingerprint,
        created_at=moment,
    )
    if not taken:  # another repeat took it over (or completed it) first
        return IdempotencyRecord.objects.get(pk=existing.pk), False
    record.pk = existing.pk
    record._state.adding = False
    record._state.db = conn.alias
    return record, True


def complete_idempotency_key(
    *, record: IdempotencyRecord, status: int, body: Any, now: datetime | None = None
) -> None:
    """Store the response of the request that claimed the key (one hand-written UPDATE)."""
    sql.complete_idempotency_record(record.pk, status, body, clock.now(now))


def release_idempotency_key(*, record: IdempotencyRecord) -> None:
    """Forget a claim whose request failed unexpectedly, so a retry may run."""
    IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()


def purge_idempotency_records(*, now: datetime | None = None) -> int:
    """Delete the records claimed longer than ``retention()`` ago (answered or not: an
    unanswered one is long stale); returns how many. A repeat after that runs as a new
    request, as with Stripe's keys. Run by the ``api_purge_idempotency`` periodic job."""
    cutoff = clock.now(now) - retention()
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
