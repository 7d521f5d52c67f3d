"""Client-area reads of the ordering flow: the catalog, the configure page with its price
preview, the cart, the checkout steps and the orders.

Everything is scoped to one client: a tariff the client may not order, or another client's
order or service, is a 404. Prices come from the orders quote (``build_quote_input`` +
``calculate_quote``), never from arithmetic here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billow.accounts.models import Client, Payer, Provider
from billow.catalog.choices import BillingType
from billow.catalog.models import ParameterValue, ProductType, Tariff, TariffPrice
from billow.catalog.pricing import AddonInfo, TariffInfo, offered_periods
from billow.catalog.selectors import get_tariff_info, list_orderable_tariffs
from billow.core.errors import BillowError
from billow.core.money import Money
from billow.orders.models import PAID_FROM_BALANCE, Cart, CartItem, Order, OrderItem, OrderStatus
from billow.orders.quote import Quote, QuoteLine, calculate_quote
from billow.orders.selectors import (
    ItemSpec,
    build_quote_input,
    get_available_balance,
    get_cart_quote,
    get_checkout_defaults,
    get_order_shortfall,
)
from billow.payments.models import Payment, PaymentMethod
from billow.payments.selectors import list_payment_methods_for_client
from billow.services.models import Service
from billow.services.states import ServiceStatus
from billow.web.bonus_selectors import CheckoutBonus, get_checkout_bonus

#: Periods in display order, with client-facing labels.
PERIOD_LABELS = {
    "hour": _("1 hour"),
    "day": _("1 day"),
    "trial": _("Trial"),
    "1m": _("1 month"),
    "3m": _("3 months"),
    "6m": _("6 months"),
    "12m": _("1 year"),
    "24m": _("2 years"),
    "36m": _("3 years"),
}
_ORDER = list(PERIOD_LABELS)
#: The payment-method choice that pays from the balance (``checkout(payment_method="")``).
BALANCE = PAID_FROM_BALANCE  # the "method" of paying from the balance, as orders store it
#: Order statuses in which the client may still cancel or pay.
OPEN_ORDER = frozenset({OrderStatus.NEW, OrderStatus.AWAITING_PAYMENT})


def period_label(period: str) -> str:
    return str(PERIOD_LABELS.get(period, period))


def _period_key(period: str) -> int:
    return _ORDER.index(period) if period in _ORDER else len(_ORDER)


def _group_ids(client: Client) -> list[int]:
    return list(client.groups.values_list("pk", flat=True))


# -- catalog ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogTariff:
    tariff: Tariff
    from_price: Money | None  # the price of the shortest period offered
    from_period: str

    @property
    def period_label(self) -> str:
        return period_label(self.from_period)


@dataclass(frozen=True, slots=True)
class CatalogSection:
    provider: Provider
    product_type: ProductType
    tariffs: list[CatalogTariff]


def list_client_providers(client: Client) -> QuerySet[Provider]:
    return client.providers.filter(is_active=True).order_by("id")


def list_catalog(client: Client) -> list[CatalogSection]:
    """The tariffs the client may order, per provider and product type, each "from" the price
    of its shortest offered period (trial last) in the provider's currency."""
    groups = _group_ids(client)
    sections: list[CatalogSection] = []
    for provider in list_client_providers(client):
        tariffs = list(
            list_orderable_tariffs(provider_id=provider.pk, group_ids=groups).select_related(
                "product_type"
            )
        )
        prices: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
        rows = TariffPrice.objects.filter(tariff__in=[t.pk for t in tariffs])
        for tariff_id, cur, period, amount in rows.values_list(
            "tariff_id", "currency_id", "period", "amount_minor"
        ):
            prices[tariff_id][cur][period] = amount
        by_type: dict[int, list[CatalogTariff]] = defaultdict(list)
        types: dict[int, ProductType] = {}
        for t in tariffs:
            types[t.product_type_id] = t.product_type
            by_type[t.product_type_id].append(
                _catalog_tariff(t, prices[t.pk], provider.default_currency)
            )
        for type_id in sorted(types, key=lambda i: (types[i].sort, types[i].name)):
            sections.append(CatalogSection(provider, types[type_id], by_type[type_id]))
    return sections


def _catalog_tariff(
    tariff: Tariff, prices: Mapping[str, Mapping[str, int]], default_currency: str
) -> CatalogTariff:
    if not prices:
        return CatalogTariff(tariff, None, "")
    currency = default_currency if default_currency in prices else sorted(prices)[0]
    offered = sorted(prices[currency], key=lambda p: (p == "trial", _period_key(p)))
    period = offered[0]
    return CatalogTariff(tariff, Money(prices[currency][period], currency), period)


# -- configure --------------------------------------------------------------------------------


def get_orderable_tariff(client: Client, tariff_id: int) -> Tariff:
    """Tariff ``tariff_id`` when the client may order it (its provider, visible to its groups);
    otherwise 404."""
    tariff = (
        Tariff.objects.select_related("provider", "product_type")
        .filter(pk=tariff_id, provider__in=list_client_providers(client))
        .first()
    )
    if tariff is None:
        raise Http404("no such tariff")
    visible = list_orderable_tariffs(provider_id=tariff.provider_id, group_ids=_group_ids(client))
    if not visible.filter(pk=tariff_id).exists():
        raise Http404("no such tariff")
    return tariff


@dataclass(frozen=True, slots=True)
class ParameterChoice:
    intname: str
    name: str
    required: bool
    values: list[tuple[str, str]]  # (intname, label)


@dataclass(frozen=True, slots=True)
class ConfigurePage:
    """What the configure form offers: periods with prices, the addons the client chooses,
    the fixed ones (shown only), the product type's parameters."""

    tariff: Tariff
    info: TariffInfo
    currency: str
    currencies: list[str]
    periods: list[tuple[str, str, Money]]  # (period, label, tariff price)
    addons: list[AddonInfo]
    fixed_addons: list[AddonInfo]
    child_names: dict[str, str]
    parameters: list[ParameterChoice]


def tariff_currencies(tariff: Tariff) -> list[str]:
    return sorted(
        set(TariffPrice.objects.filter(tariff=tariff).values_list("currency_id", flat=True))
    )


def pick_currency(client: Client, tariff: Tariff, wanted: str = "") -> str:
    """``wanted`` when the tariff is priced in it; else the currency of the client's cart with
    this provider, the provider's default currency, or the first one the tariff is priced in."""
    offered = tariff_currencies(tariff)
    cart = Cart.objects.filter(client=client, provider_id=tariff.provider_id).first()
    cart_currency = cart.currency if cart is not None and cart.items.exists() else ""
    for candidate in (wanted, cart_currency, tariff.provider.default_currency):
        if candidate and candidate in offered:
            return candidate
    return offered[0] if offered else tariff.provider.default_currency


def get_configure_page(client: Client, tariff: Tariff, currency: str) -> ConfigurePage:
    info = get_tariff_info(tariff.pk, currency)
    periods = [
        (p, trial_label(info.trial_days) if p == "trial" else period_label(p), _price_of(info, p))
        # the trial last: a paid period is what the form offers first
        for p in sorted(offered_periods(info), key=lambda p: (p == "trial", _period_key(p)))
    ]
    chosen = (BillingType.ON_ORDER, BillingType.CLIENT_CHOICE)
    addons = [a for a in info.top_addons if a.billing_type in chosen]
    fixed = [a for a in info.top_addons if a.billing_type not in chosen]
    children = {a.intname: a.name for a in info.addons if a.parent is not None}
    return ConfigurePage(
        tariff=tariff,
        info=info,
        currency=currency,
        currencies=tariff_currencies(tariff),
        periods=periods,
        addons=addons,
        fixed_addons=fixed,
        child_names=children,
        parameters=_parameters(tariff, info),
    )


def trial_label(days: int) -> str:
    if not days:
        return str(PERIOD_LABELS["trial"])
    return ngettext("Trial, %(days)d day free", "Trial, %(days)d days free", days) % {"days": days}


def _price_of(info: TariffInfo, period: str) -> Money:
    if period == "trial":  # free, whatever price row there is
        return Money.zero(info.currency)
    return Money(info.prices[period].amount_minor, info.currency)


def _parameters(tariff: Tariff, info: TariffInfo) -> list[ParameterChoice]:
    labels = dict(
        ParameterValue.objects.filter(
            parameter__product_type_id=tariff.product_type_id, is_active=True
        ).values_list("intname", "name")
    )
    return [
        ParameterChoice(p.intname, p.name, p.required, [(v, labels.get(v, v)) for v in p.values])
        for p in info.parameters
    ]


@dataclass(frozen=True, slots=True)
class Preview:
    quote: Quote | None
    error: str = ""
    code: str = ""


def preview_item(
    client: Client,
    tariff: Tariff,
    *,
    currency: str,
    period: str,
    addon_values: Mapping[str, Any],
    parameters: Mapping[str, str] | None = None,
) -> Preview:
    """The quote of one configured item (what it would cost in the cart now, automatic
    promotions included); a refusal comes back as ``error`` and ``code``. Parameters never
    change a price, so they are checked only when given."""
    spec = ItemSpec(
        "new",
        tariff.pk,
        period,
        dict(addon_values),
        dict(parameters or {}),
        quick=parameters is None,
    )
    try:
        quote = calculate_quote(
            build_quote_input(
                client=client,
                provider_id=tariff.provider_id,
                currency=currency,
                items=[spec],
            )
        )
    except BillowError as exc:
        return Preview(None, str(exc), exc.code)
    return Preview(quote)


# -- cart -------------------------------------------------------------------------------------


def count_cart_items(client_id: int) -> int:
    return CartItem.objects.filter(cart__client_id=client_id).count()


@dataclass(frozen=True, slots=True)
class CartRow:
    item: CartItem
    lines: list[QuoteLine]
    total: Money | None


@dataclass(frozen=True, slots=True)
class CartView:
    """One provider's cart priced now; ``error`` (with its code) when it cannot be priced."""

    cart: Cart
    provider: Provider
    rows: list[CartRow]
    quote: Quote | None
    error: str = ""


def list_carts(client: Client) -> list[CartView]:
    views = []
    carts = Cart.objects.filter(client=client).select_related("provider").order_by("id")
    for cart in carts:
        items = list(cart.items.select_related("tariff"))
        if not items:
            continue
        quote, error = None, ""
        try:
            quote = get_cart_quote(client=client, provider_id=cart.provider_id)
        except BillowError as exc:
            error = f"{exc} ({exc.code})"
        rows = [_cart_row(i, quote) for i in items]
        views.append(CartView(cart, cart.provider, rows, quote, error))
    return views


def _cart_row(item: CartItem, quote: Quote | None) -> CartRow:
    if quote is None:
        return CartRow(item, [], None)
    key = f"i{item.pk}"
    return CartRow(item, [x for x in quote.lines if x.item_key == key], quote.item_total(key))


def default_checkout_provider(client: Client) -> int | None:
    """The provider of the client's oldest non-empty cart."""
    return (
        Cart.objects.filter(client=client, items__isnull=False)
        .order_by("id")
        .values_list("provider_id", flat=True)
        .first()
    )


def get_cart(client: Client, provider_id: int) -> Cart:
    """The client's non-empty cart with ``provider_id`` (404 otherwise)."""
    cart = Cart.objects.filter(client=client, provider_id=provider_id).first()
    if cart is None or not cart.items.exists():
        raise Http404("no such cart")
    return cart


def cart_currency(client: Client, provider_id: int) -> str | None:
    """The currency of the client's cart with ``provider_id``; None when it is empty."""
    cart = Cart.objects.filter(client=client, provider_id=provider_id).first()
    return cart.currency if cart is not None and cart.items.exists() else None


# -- checkout ---------------------------------------------------------------------------------


def available_balance(client: Client, provider_id: int, currency: str) -> tuple[int, bool]:
    """What the balance can pay now and whether the client is post-paid (the orders read)."""
    return get_available_balance(client.pk, provider_id, currency)


def list_checkout_payers(client: Client) -> list[Payer]:
    return list(Payer.objects.filter(client=client, is_active=True).order_by("id"))


def list_checkout_methods(client: Client, provider_id: int, currency: str) -> list[PaymentMethod]:
    return list_payment_methods_for_client(client, provider_id, currency)


@dataclass(slots=True)
class CheckoutPage:
    """The two steps of the shorter checkout (BILLmanager 2025).

    ``step`` is ``final`` when the client has a previous paid order with a payer and method
    (``get_checkout_defaults``) or chose them on the details step; else ``details``.
    """

    provider: Provider
    currency: str
    quote: Quote
    payers: list[Payer]
    methods: list[PaymentMethod]
    balance: int
    postpaid: bool
    payer: Payer | None
    method: str  # a method id in text, ``BALANCE`` or ""
    step: str
    promo_code: str = ""
    promo_error: str = ""
    method_obj: PaymentMethod | None = None
    bonus: CheckoutBonus | None = None

    @property
    def balance_covers(self) -> bool:
        return self.postpaid or self.balance >= self.quote.amount_due.amount_minor

    @property
    def method_choices(self) -> list[tuple[str, str]]:
        out = [(str(m.pk), m.name) for m in self.methods]
        if self.balance_covers:
            out.append((BALANCE, str(_("Pay from the balance"))))
        return out


def find_payer(client: Client, payer_id: str) -> Payer | None:
    """The client's active payer ``payer_id`` (None for "" or anything not theirs)."""
    if not payer_id.isdigit():
        return None
    return Payer.objects.filter(client=client, pk=int(payer_id), is_active=True).first()


def get_checkout_page(
    client: Client,
    provider_id: int,
    *,
    payer_id: str | None = None,
    method: str | None = None,
    promo_code: str = "",
    want_details: bool = False,
    bonus_points: int = 0,
) -> CheckoutPage:
    """The checkout of the client's cart with ``provider_id`` (404 for an empty cart).

    ``payer_id`` / ``method`` None: take the defaults of the last paid order (the shorter
    checkout). A chosen method must be one the client may use now, else the details step."""
    cart = get_cart(client, provider_id)
    defaults = get_checkout_defaults(client)
    chosen = payer_id is not None or method is not None
    payer = defaults.payer if payer_id is None else find_payer(client, payer_id)
    method = defaults.payment_method if method is None else method
    methods = list_checkout_methods(client, provider_id, cart.currency)
    balance, postpaid = available_balance(client, provider_id, cart.currency)
    quote, promo_error, applied = _quote_with_code(
        client, provider_id, payer, promo_code, bonus_points
    )
    page = CheckoutPage(
        provider=Provider.objects.get(pk=provider_id),
        currency=cart.currency,
        quote=quote,
        payers=list_checkout_payers(client),
        methods=methods,
        balance=balance,
        postpaid=postpaid,
        payer=payer,
        method=method,
        step="details",
        promo_code=applied,
        promo_error=promo_error,
    )
    page.bonus = get_checkout_bonus(client, provider_id, quote)
    page.method_obj = next((m for m in methods if str(m.pk) == method), None)
    valid_method = page.method_obj is not None or (method == BALANCE and page.balance_covers)
    if not valid_method:
        page.method = ""
    skip = defaults.skip_to_final_step or chosen
    if skip and valid_method and not want_details:
        page.step = "final"
    return page


def _quote_with_code(
    client: Client, provider_id: int, payer: Payer | None, promo_code: str, bonus_points: int = 0
) -> tuple[Quote, str, str]:
    """The cart quote with ``promo_code`` and ``bonus_points``, and the code as applied
    (normalised); a refused code gives the quote without it and the refusal (its message and
    code)."""
    if not promo_code:
        return _plain_quote(client, provider_id, payer, bonus_points), "", ""
    try:
        quote = get_cart_quote(
            client=client,
            provider_id=provider_id,
            promo_code=promo_code,
            payer=payer,
            bonus_points=bonus_points,
        )
    except BillowError as exc:
        plain = _plain_quote(client, provider_id, payer, bonus_points)
        return plain, f"{exc} ({exc.code})", ""
    applied = next((p.code for p in quote.promotions if p.code), "")
    if not applied:  # checkout refuses a code that discounts nothing: say so now
        error = _("The code discounts nothing in this cart (promo_code_not_applicable)")
        return _plain_quote(client, provider_id, payer, bonus_points), str(error), ""
    return quote, "", applied


def _plain_quote(
    client: Client, provider_id: int, payer: Payer | None, bonus_points: int = 0
) -> Quote:
    return get_cart_quote(
        client=client, provider_id=provider_id, payer=payer, bonus_points=bonus_points
    )


# -- orders -----------------------------------------------------------------------------------


def list_orders(client: Client) -> QuerySet[Order]:
    return Order.objects.filter(client=client).select_related("provider").order_by("-id")


def get_order(client: Client, pk: int) -> Order:
    """The client's order ``pk`` (404 for a missing one or another client's)."""
    order = Order.objects.select_related("provider", "payer").filter(pk=pk, client=client).first()
    if order is None:
        raise Http404("no such order")
    return order


@dataclass(frozen=True, slots=True)
class OrderPage:
    order: Order
    items: list[OrderItem]
    lines: list[dict[str, Any]]  # the quote snapshot's lines
    payments: list[Payment]
    shortfall: Money
    methods: list[PaymentMethod]
    can_cancel: bool
    can_pay: bool
    open_payment: Payment | None  # a started payment the client can still finish


def get_order_page(client: Client, order: Order) -> OrderPage:
    items = list(order.items.select_related("tariff", "service").order_by("id"))
    payments = list(
        Payment.objects.filter(client=client, reference=order.payment_reference)
        .select_related("method")
        .order_by("-id")
    )
    shortfall = get_order_shortfall(order)
    awaiting = order.status == OrderStatus.AWAITING_PAYMENT
    methods = list_checkout_methods(client, order.provider_id, order.currency) if awaiting else []
    open_payment = next(
        (
            p
            for p in payments
            if p.status in ("new", "pending") and (p.redirect_url or p.instructions)
        ),
        None,
    )
    return OrderPage(
        order=order,
        items=items,
        lines=list(order.quote.get("lines", [])),
        payments=payments,
        shortfall=shortfall,
        methods=methods,
        can_cancel=order.status in OPEN_ORDER,
        can_pay=awaiting,
        open_payment=open_payment if awaiting else None,
    )


def find_order_method(client: Client, order: Order, method_id: str) -> PaymentMethod | None:
    methods = list_checkout_methods(client, order.provider_id, order.currency)
    return next((m for m in methods if str(m.pk) == method_id), None)


# -- quick-ordered services -------------------------------------------------------------------


def get_service_to_configure(client: Client, pk: int) -> tuple[Service, list[ParameterChoice]]:
    """The client's service ``pk`` (404 otherwise) and its product type's parameters."""
    service = Service.objects.select_related("tariff").filter(pk=pk, client=client).first()
    if service is None:
        raise Http404("no such service")
    info = get_tariff_info(service.tariff_id, service.currency)
    return service, _parameters(service.tariff, info)


def awaits_configuration(service: Service) -> bool:
    return service.status == ServiceStatus.CONFIGURATION_REQUIRED
