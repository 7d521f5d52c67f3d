"""API writes: personal tokens (create, revoke, mark used) and idempotency records.

Token actions write an ``AccountEvent`` (client set when the user acts for one) in the same
transaction; refusals write nothing.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction

from billow.accounts.models import AccountEvent
from billow.accounts.selectors import get_client_for_user
from billow.api import errors
from billow.api.models import ApiToken, IdempotencyRecord
from billow.api.scopes import CLIENT_FAMILIES, SCOPES, STAFF_FAMILY, family_of
from billow.core import clock
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.core.rows import Columns

TOKEN_PREFIX = "blw"  # noqa: S105 - the public token prefix, not a secret
#: ``last_used_at`` is written at most this often per token (a write per request would cost).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def check_scopes(user: Any, scopes: Iterable[str]) -> list[str]:
    """The sorted, de-duplicated scopes, or ``invalid_scope`` / ``scope_not_allowed``."""
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise errors.InvalidScope("Unknown scope(s): " + ", ".join(unknown), scopes=unknown)
    if not wanted:
        raise errors.InvalidScope("A token needs at least one scope", scopes=[])
    families = {family_of(s) for s in wanted}
    if STAFF_FAMILY in families and not user.is_staff:
        raise errors.ScopeNotAllowed("Staff scopes need a staff user", scopes=wanted)
    if families & set(CLIENT_FAMILIES) and get_client_for_user(user) is None:
        raise errors.ScopeNotAllowed("Client scopes need a user of a client", scopes=wanted)
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


def claim_idempotency_key(
    *, user: Any, token: ApiToken | None, key: str, method: str, path: str, fingerprint: str
) -> tuple[IdempotencyRecord, bool]:
    """Insert the record for ``(user, key)``; returns (record, True) when this request claimed
    the key, else (the existing record, False). The unique constraint decides races."""
    # In autocommit (the usual request) a failed INSERT harms nothing, so it needs no
    # transaction of its own (two round trips less); inside one, a savepoint keeps it usable.
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    record = IdempotencyRecord(
        user=user,
        token=token,
        key=key,
        method=method,
        path=path[:500],
        fingerprint=fingerprint,
        created_at=clock.now(),
    )
    try:
        with guard, connection.cursor() as cursor:
            # Hand-written: it runs on every idempotent request, and the ORM's INSERT costs more
            # to build than to run.
            values = [_RECORD.prep(f.name, getattr(record, f.attname)) for f in _claimed()]
            cursor.execute(_claim_sql(), values)
            record.pk = cursor.fetchone()[0]
        record._state.adding = False
        return record, True
    except IntegrityError:
        return IdempotencyRecord.objects.get(user=user, key=key), False


_RECORD = Columns(IdempotencyRecord, "r")
_CLAIMED = ("user", "token", "key", "method", "path", "fingerprint", "created_at")


@functools.cache
def _claimed() -> tuple[Any, ...]:
    return tuple(IdempotencyRecord._meta.get_field(f) for f in _CLAIMED)


@functools.cache
def _claim_sql() -> str:
    qn = connection.ops.quote_name
    fields = _claimed()
    return (
        f"INSERT INTO {qn(IdempotencyRecord._meta.db_table)} "  # noqa: S608
        f"({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {qn('id')}"
    )


@functools.cache
def _complete_sql() -> str:
    qn = connection.ops.quote_name
    return (
        f"UPDATE {qn(IdempotencyRecord._meta.db_table)} SET {qn('response_status')} = %s, "  # noqa: S608
        f"{qn('response_body')} = %s, {qn('completed_at')} = %s WHERE {qn('id')} = %s"
    )


def complete_idempotency_key(
    *, record: IdempotencyRecord, status: int, body: Any, now: datetime | None = None
) -> None:
    """Store the response of the request that claimed the key (one hand-written UPDATE)."""
    params = [
        _RECORD.prep("response_status", status),
        _RECORD.prep("response_body", body),
        _RECORD.prep("completed_at", clock.now(now)),
        record.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_complete_sql(), params)


def release_idempotency_key(*, record: IdempotencyRecord) -> None:
    """Forget a claim whose request failed unexpectedly, so a retry may run."""
    IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()
