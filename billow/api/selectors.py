"""API reads: token lookup and the client-scoped querysets the endpoints page through."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from billow.api.models import ApiToken
from billow.core import clock
from billow.ledger.models import AccountKind, LedgerAccount, LedgerEntry
from billow.services.models import Service, ServiceEvent


def get_active_token(raw: str, *, now: datetime | None = None) -> ApiToken | None:
    """The live token whose secret is ``raw`` (not revoked, not expired, user active), else
    None. One indexed query by prefix, then a constant-time hash comparison."""
    from billow.api.actions import TOKEN_PREFIX, hash_token

    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1]:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__client_user__client")
        .filter(prefix=parts[1], revoked_at__isnull=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(raw)):
        return None
    if token.expires_at is not None and token.expires_at <= clock.now(now):
        return None
    if not token.user.is_active:
        return None
    return token


def list_tokens_for_user(user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def list_balances_for_client(client_id: int) -> QuerySet[LedgerAccount]:
    """The client's balance accounts (one per provider and currency)."""
    return LedgerAccount.objects.filter(
        client_id=client_id, kind=AccountKind.CLIENT_BALANCE
    ).order_by("currency", "provider_id", "id")


def list_statement_for_client(
    client_id: int, *, currency: str | None = None, kind: str | None = None
) -> QuerySet[LedgerEntry]:
    """Ledger entries of the client's balance accounts, newest first, with transactions."""
    rows = LedgerEntry.objects.filter(
        account__client_id=client_id, account__kind=AccountKind.CLIENT_BALANCE
    ).select_related("transaction")
    if currency:
        rows = rows.filter(currency=currency)
    if kind:
        rows = rows.filter(transaction__kind=kind)
    return rows.order_by("-id")


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
    """The price of one period of ``service`` after a tariff and/or addon change, next to its
    current price. Pure pricing (``catalog.pricing``); no proration (billing decides that when
    the change is made). Pricing refusals (``addon_value_out_of_range``, ...) raise as is."""
    from billow.billing.selectors import PriceBook, service_price
    from billow.catalog.pricing import check_addon_change, lines_total, price_tariff

    book = PriceBook()
    period = service.auto_renew_period or service.period
    new_tariff = tariff_id or service.tariff_id
    current_values = dict(service.addon_values or {})
    info = book.info(new_tariff, service.currency)
    if new_tariff == service.tariff_id:
        for name, value in (addon_values or {}).items():
            check_addon_change(info, name, current_values.get(name), value)
        values = {**current_values, **(addon_values or {})}
    else:
        known = {a.intname for a in info.top_addons}
        values = dict(addon_values) if addon_values is not None else {
            k: v for k, v in current_values.items() if k in known
        }  # fmt: skip
    lines = price_tariff(info, period=period, addon_values=values, currency=service.currency,
                         include_setup=False)  # fmt: skip
    new = lines_total(lines, service.currency).amount_minor
    current = service_price(book, tariff_id=service.tariff_id, currency=service.currency,
                            period=period, addon_values=current_values,
                            special_price_minor=service.special_price_minor)  # fmt: skip
    return {
        "tariff_id": new_tariff, "period": period, "addon_values": values,
        "currency": service.currency, "current_minor": current, "new_minor": new,
        "difference_minor": new - current,
        "lines": [
            {"kind": str(line.kind), "code": line.code, "description": line.description,
             "quantity": line.quantity, "unit_price_minor": line.unit_price.amount_minor,
             "amount_minor": line.amount.amount_minor, "currency": line.amount.currency}
            for line in lines
        ],
    }  # fmt: skip


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


def list_invoices_for_client(client_id: int, *, status: str | None = None) -> QuerySet[Any]:
    from billow.invoicing.models import Invoice

    rows = Invoice.objects.filter(client_id=client_id)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-id")
