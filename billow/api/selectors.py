"""API reads: token lookup and the client-scoped querysets the endpoints page through."""

from __future__ import annotations

import hmac
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet

from billow.accounts.models import ClientUser
from billow.accounts.selectors import remember_client_scope
from billow.api import sql
from billow.api.models import ApiToken
from billow.core import clock
from billow.ledger.models import AccountKind, LedgerAccount
from billow.services.models import Service, ServiceEvent


def get_active_token(raw: str, *, now: datetime | None = None) -> ApiToken | None:
    """The live token whose secret is ``raw`` (not revoked, not expired, user active), else
    None. One indexed query by prefix, then a constant-time hash comparison."""
    from billow.api.actions import TOKEN_PREFIX, hash_token

    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1]:
        return None
    token = _load_token(parts[1])
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(raw)):
        return None
    if token.expires_at is not None and token.expires_at <= clock.now(now):
        return None
    if not token.user.is_active:
        return None
    return token


def _load_token(prefix: str) -> ApiToken | None:
    """The unrevoked token with ``prefix`` (unique), its user, and the user's client user and
    client when there is one, from one hand-written statement (``api.sql.load_token``: it runs
    on every API request, and the same ``select_related`` query costs about ten times the CPU to
    build in the ORM)."""
    row, conn = sql.load_token(prefix)
    if row is None:
        return None
    cols = sql.token_row()
    at = 0
    token = cols.token.load(row, at, conn)
    at += len(cols.token)
    user = cols.user.load(row, at, conn)
    at += len(cols.user)
    client_user: ClientUser | None = None
    if row[at] is not None:  # the client user's id: None for a staff user
        client_user = cols.client_user.load(row, at, conn)
        at += len(cols.client_user)
        client = cols.client.load(row, at, conn)
        at += len(cols.client)
        remember_client_scope(client, _ids(row[at]), _ids(row[at + 1]))
        ClientUser._meta.get_field("client").set_cached_value(client_user, client)
        ClientUser._meta.get_field("user").set_cached_value(client_user, user)
    # As select_related leaves them: user.client_user raises for a user without one.
    ClientUser._meta.get_field("user").remote_field.set_cached_value(user, client_user)
    ApiToken._meta.get_field("user").set_cached_value(token, user)
    return token


def _ids(value: Any) -> list[int]:
    """An aggregated id list: a list (PostgreSQL), a comma-separated string (SQLite), or None."""
    if value is None:
        return []
    if isinstance(value, str):
        return [int(x) for x in value.split(",") if x]
    return [int(x) for x in value]


def list_tokens_for_user(user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def list_balances_for_client(client_id: int) -> QuerySet[LedgerAccount]:
    """The client's balance accounts (one per provider and currency)."""
    return LedgerAccount.objects.filter(
        client_id=client_id, kind=AccountKind.CLIENT_BALANCE
    ).order_by("currency", "provider_id", "id")


def list_services_for_client(client_id: int, *, status: str | None = None) -> QuerySet[Service]:
    rows = Service.objects.filter(client_id=client_id).select_related("tariff")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("id")


def list_service_events(service: Service) -> QuerySet[ServiceEvent]:
    return ServiceEvent.objects.filter(service=service).order_by("-id")


# --- change preview ----------------------------------------------------------------------------


def preview_service_change(
    service: Service, *, tariff_id: int | None, addon_values: dict[str, Any] | None
) -> dict[str, Any]:
    """What a tariff and/or addon change does (``billing.plan_change.quote_plan_change``, the
    rule the change itself follows): the price of the current paid period before and after, and
    what is charged or credited now or the date the change waits for. Refusals raise as is."""
    from billow.billing.plan_change import quote_plan_change

    change = quote_plan_change(
        service, tariff_id=tariff_id, addon_values=addon_values, today=clock.now().date()
    )
    return {
        "tariff_id": change.tariff_id,
        "period": change.period,
        "addon_values": change.addon_values,
        "currency": change.currency,
        "current_minor": change.current_minor,
        "new_minor": change.new_minor,
        "difference_minor": change.difference_minor,
        "charge_now_minor": change.charge_minor,
        "credit_now_minor": change.credit_minor,
        "when": change.when,
        "effective_on": change.effective_on,
        "lines": [
            {
                "kind": str(line.kind),
                "code": line.code,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price.amount_minor,
                "amount_minor": line.amount.amount_minor,
                "currency": line.amount.currency,
            }
            for line in change.lines
        ],
    }


# --- commerce (orders, carts, invoices) ------------------------------------------------------


def list_orders_for_client(client_id: int, *, status: str | None = None) -> QuerySet[Any]:
    """The client's orders, newest first, items prefetched (one query for all of a page)."""
    from billow.orders.models import Order

    rows = Order.objects.filter(client_id=client_id).prefetch_related("items")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-id")


def list_cart_items_for_client(client_id: int, *, provider_id: int | None = None) -> QuerySet[Any]:
    from billow.orders.models import CartItem

    rows = CartItem.objects.filter(cart__client_id=client_id).select_related("cart", "tariff")
    if provider_id is not None:
        rows = rows.filter(cart__provider_id=provider_id)
    return rows.order_by("id")


def list_invoices_for_client(
    client_id: int,
    *,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Any]:
    """The client's invoices, newest first; optionally one status and the days they were
    issued, ``date_from`` .. ``date_to`` (inclusive, UTC)."""
    from billow.invoicing.models import Invoice

    rows = Invoice.objects.filter(client_id=client_id)
    if status:
        rows = rows.filter(status=status)
    if date_from is not None:
        rows = rows.filter(issued_at__gte=datetime.combine(date_from, time.min, tzinfo=UTC))
    if date_to is not None:
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC)
        rows = rows.filter(issued_at__lt=end)
    return rows.order_by("-id")
