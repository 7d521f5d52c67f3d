"""API reads: token lookup and the client-scoped querysets the endpoints page through."""

from __future__ import annotations

import functools
import hmac
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model, QuerySet

from billow.accounts.models import Client, ClientGroupMembership, ClientUser
from billow.accounts.selectors import remember_client_scope
from billow.api.models import ApiToken
from billow.core import clock
from billow.core.rows import Columns
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


class _TokenQuery:
    """The unrevoked token with ``prefix`` (unique), its user, and the user's client user and
    client when there is one, in one hand-written statement: it runs on every API request, and
    the same ``select_related`` query costs about ten times the CPU to build in the ORM."""

    def __init__(self) -> None:
        user_model = get_user_model()
        self.token = Columns(ApiToken, "t")
        self.user = Columns(user_model, "u")
        self.client_user = Columns(ClientUser, "cu")
        self.client = Columns(Client, "c")
        qn = connection.ops.quote_name

        def table(model: type[Model]) -> str:
            return qn(model._meta.db_table)

        # The client's providers and groups ride along (``get_client_scope``), as arrays on
        # PostgreSQL and comma-separated on SQLite.
        agg = "array_agg" if connection.vendor == "postgresql" else "group_concat"
        members = Client.providers.through
        scope = (
            f"(SELECT {agg}(p.{qn('provider_id')}) FROM {table(members)} p "  # noqa: S608
            f"WHERE p.{qn('client_id')} = c.id), "
            f"(SELECT {agg}(g.{qn('group_id')}) FROM {table(ClientGroupMembership)} g "
            f"WHERE g.{qn('client_id')} = c.id)"
        )
        self.sql = (
            f"SELECT {self.token.sql}, {self.user.sql}, {self.client_user.sql}, {self.client.sql}, "  # noqa: S608
            f"{scope} FROM {table(ApiToken)} t "
            f"JOIN {table(user_model)} u ON u.id = t.{qn('user_id')} "
            f"LEFT JOIN {table(ClientUser)} cu ON cu.{qn('user_id')} = u.id "
            f"LEFT JOIN {table(Client)} c ON c.id = cu.{qn('client_id')} "
            f"WHERE t.{qn('prefix')} = %s AND t.{qn('revoked_at')} IS NULL"
        )

    def load(self, prefix: str) -> ApiToken | None:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [prefix])
            row = cursor.fetchone()
        if row is None:
            return None
        at = 0
        token = self.token.load(row, at)
        at += len(self.token)
        user = self.user.load(row, at)
        at += len(self.user)
        client_user: ClientUser | None = None
        if row[at] is not None:  # the client user's id: None for a staff user
            client_user = self.client_user.load(row, at)
            at += len(self.client_user)
            client = self.client.load(row, at)
            at += len(self.client)
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


@functools.cache
def _token_query() -> _TokenQuery:  # built on first use: needs the connection
    return _TokenQuery()


def _load_token(prefix: str) -> ApiToken | None:
    return _token_query().load(prefix)


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


def list_invoices_for_client(client_id: int, *, status: str | None = None) -> QuerySet[Any]:
    from billow.invoicing.models import Invoice

    rows = Invoice.objects.filter(client_id=client_id)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-id")
