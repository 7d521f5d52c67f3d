"""Ordering: the catalog, configure a tariff (htmx price preview), the cart, the shorter
checkout (BILLmanager 2025), orders, and configuring a quick-ordered service.

Checkout state. Nothing is kept in the session: the chosen payer and method travel in the URL
of the final step (``checkout/?provider=&payer=&method=``, the details step is a GET form) and
in hidden fields of the summary partial (provider, payer, method and the accepted promo code),
which the promo-code htmx POST re-renders and the Pay form submits. Every value is checked
again on each request against the client (an unknown or foreign payer is a 404, a method the
client may not use sends them back to the details step), so a tampered field can never reach
another client's data. A client with a previous paid order (payer + method) opens directly on
the final step (``orders.selectors.get_checkout_defaults``); "change" links to
``checkout/?step=details``.

Permissions: browsing, configuring, the cart, the checkout pages and the orders need
``services`` (ordering is managing services). Paying (``checkout/pay/`` and an order's
``pay/``) also needs ``billing``: it spends the balance or starts a payment and issues an
invoice, so a user with ``services`` alone can fill the cart and the owner or a billing user
pays. Cancelling an unpaid order needs ``services`` only (it releases, never spends).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billow.accounts.models import ClientPermission
from billow.core.errors import BillowError
from billow.orders import actions as orders
from billow.orders.expiry import configure_deadline
from billow.orders.models import Order, OrderStatus
from billow.payments import actions as payments
from billow.payments.models import Payment
from billow.web import forms
from billow.web import shop_selectors as shop
from billow.web.access import actor_of, client_of, client_user_of, client_view, forbidden
from billow.web.dedicated_selectors import (
    dedicated_availability,
    fitting_defaults,
    narrow_build_fields,
)
from billow.web.views.common import refused

SERVICES = ClientPermission.SERVICES
BILLING = ClientPermission.BILLING
ORDER = "web:order_detail"


def _may_pay(request: HttpRequest) -> bool:
    return client_user_of(request).has_permission(BILLING)


def _no_pay(request: HttpRequest) -> HttpResponse:
    return forbidden(request, _("Paying needs the Billing and payments permission."))


# -- catalog and configure --------------------------------------------------------------------


@client_view(SERVICES)
@require_GET
def catalog(request: HttpRequest) -> HttpResponse:
    sections = shop.list_catalog(client_of(request))
    return render(request, "web/shop/catalog.html", {"sections": sections})


def _configure_page(request: HttpRequest, tariff_id: int) -> shop.ConfigurePage:
    client = client_of(request)
    tariff = shop.get_orderable_tariff(client, tariff_id)
    wanted = request.POST.get("currency") or request.GET.get("currency", "")
    return shop.get_configure_page(client, tariff, shop.pick_currency(client, tariff, wanted))


def _preview(
    request: HttpRequest,
    page: shop.ConfigurePage,
    form: forms.OrderItemForm | None = None,
    defaults: dict[str, Any] | None = None,
) -> shop.Preview:
    """The quote of the item as configured so far (``defaults``, else the tariff's, without a
    bound ``form``; parameters never change the price, so they are left out)."""
    data = form.cleaned_data if form is not None else {}
    period = data.get("period") or (page.periods[0][0] if page.periods else "")
    values = form.addon_values() if form is not None else (defaults or {})
    return shop.preview_item(
        client_of(request), page.tariff, currency=page.currency, period=period, addon_values=values
    )


def _initial_addons(form: forms.OrderItemForm) -> dict[str, Any]:
    """The addon values an unbound form starts with (its initial, else the first choice)."""
    out: dict[str, Any] = {}
    for name, field in form.fields.items():
        if not name.startswith(forms.ADDON_PREFIX):
            continue
        value = form.get_initial_for_field(field, name)
        choices = list(getattr(field, "choices", []) or [])
        if value in (None, "") and choices:
            value = choices[0][0]
        out[name.removeprefix(forms.ADDON_PREFIX)] = value
    return out


@client_view(SERVICES)
@require_http_methods(["GET", "POST"])
def configure(request: HttpRequest, tariff_id: int) -> HttpResponse:
    """GET: the configure form with the price of the defaults. POST: add to the cart."""
    page = _configure_page(request, tariff_id)
    if request.method == "POST":
        form = forms.OrderItemForm(request.POST, page=page)
        error = ""
        if form.is_valid():
            try:
                orders.add_to_cart(
                    client=client_of(request),
                    tariff=page.tariff,
                    period=form.cleaned_data["period"],
                    currency=page.currency,
                    addon_values=form.addon_values(),
                    parameters=form.parameters(),
                    quick=bool(form.cleaned_data.get("quick")),
                    actor=actor_of(request),
                )
            except BillowError as exc:
                error = f"{exc} ({exc.code})"
            else:
                messages.success(
                    request, _("%(name)s was added to the cart.") % {"name": page.tariff.name}
                )
                return redirect("web:cart")
        preview = _preview(request, page, form)
        values = form.addon_values() if form.is_valid() else _initial_addons(form)
    else:
        form, error = forms.OrderItemForm(page=page), ""
        # a server build starts from choices that fit together
        values = fitting_defaults(_initial_addons(form))
        form.initial.update({forms.ADDON_PREFIX + k: v for k, v in values.items()})
        preview = _preview(request, page, defaults=values)
    narrow_build_fields(form, values)
    context = {
        "page": page,
        "form": form,
        "preview": preview,
        "error": error,
        "dedicated": dedicated_availability(values),
    }
    return render(request, "web/shop/configure.html", context)


@client_view(SERVICES)
@require_GET
def configure_preview(request: HttpRequest, tariff_id: int) -> HttpResponse:
    """htmx partial: the quote of the item as configured, line by line with reasons."""
    page = _configure_page(request, tariff_id)
    form = forms.OrderItemForm(request.GET, page=page)
    form.is_valid()
    errors = [
        str(e) for name, errs in form.errors.items() if not name.startswith("param_") for e in errs
    ]
    preview = shop.Preview(None, " ".join(errors)) if errors else _preview(request, page, form)
    values = {} if errors else form.addon_values()
    # the component fields, narrowed to the new picks, replace theirs on the page (htmx oob)
    narrowed = narrow_build_fields(form, values, out_of_band=True)
    context = {
        "preview": preview,
        "page": page,
        "dedicated": None if errors else dedicated_availability(values),
        "build_fields": [form[name] for name in narrowed],
    }
    return render(request, "web/shop/_item_preview.html", context)


# -- cart -------------------------------------------------------------------------------------


@client_view(SERVICES)
@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    return render(request, "web/shop/cart.html", {"carts": shop.list_carts(client_of(request))})


@client_view(SERVICES)
@require_POST
def cart_remove(request: HttpRequest, item_id: int) -> HttpResponse:
    client = client_of(request)
    try:
        orders.remove_cart_item(client=client, item_id=item_id, actor=actor_of(request))
    except BillowError as exc:
        if exc.code == "cart_item_not_found":
            raise Http404("no such cart item") from None
        return refused(request, exc, "web:cart")
    messages.success(request, _("The item was removed from the cart."))
    return redirect("web:cart")


# -- checkout ---------------------------------------------------------------------------------


def _provider_of(request: HttpRequest, data: Any) -> int | None:
    raw = str(data.get("provider", ""))
    if raw.isdigit():
        return int(raw)
    return shop.default_checkout_provider(client_of(request))


def _checkout_url(provider_id: int, **params: str) -> str:
    query = urlencode({"provider": provider_id, **{k: v for k, v in params.items() if v}})
    return f"{reverse('web:checkout')}?{query}"


def _get_page(request: HttpRequest, data: Any, **kw: Any) -> shop.CheckoutPage:
    provider_id = _provider_of(request, data)
    if provider_id is None:
        raise Http404("the cart is empty")
    payer = data.get("payer") if "payer" in data else None
    if payer and shop.find_payer(client_of(request), payer) is None:
        raise Http404("no such payer")
    method = data.get("method") if "method" in data else None
    return shop.get_checkout_page(
        client_of(request), provider_id, payer_id=payer, method=method, **kw
    )


@client_view(SERVICES)
@require_GET
def checkout(request: HttpRequest) -> HttpResponse:
    """The details step (payer, method) or, when both are known, the final step."""
    provider_id = _provider_of(request, request.GET)
    if provider_id is None or shop.cart_currency(client_of(request), provider_id) is None:
        return render(request, "web/shop/checkout.html", {"page": None})
    try:
        page = _get_page(request, request.GET, want_details=request.GET.get("step") == "details")
    except BillowError as exc:  # the cart cannot be priced (e.g. a tariff went off sale)
        return refused(request, exc, "web:cart")
    chose = "method" in request.GET and request.GET.get("step") != "details"
    if chose and page.step == "details":
        messages.error(request, _("Choose a payment method."))
    return render(request, "web/shop/checkout.html", _checkout_context(request, page))


def _checkout_context(request: HttpRequest, page: shop.CheckoutPage) -> dict[str, Any]:
    pay = forms.CheckoutPayForm(
        initial={
            "provider": page.provider.pk,
            "payer": page.payer.pk if page.payer else "",
            "method": page.method,
            "promo_code": page.promo_code,
            "bonus_points": page.quote.bonus_points,
        }
    )
    change = _checkout_url(
        page.provider.pk,
        step="details",
        payer=str(page.payer.pk) if page.payer else "",
        method=page.method,
    )
    return {"page": page, "pay_form": pay, "may_pay": _may_pay(request), "change_url": change}


def _points(data: Any) -> int:
    """Points the client asked to pay with (anything but a whole number is none)."""
    raw = str(data.get("bonus_points", "")).strip()
    return min(int(raw), 10**12) if raw.isdigit() else 0


@client_view(SERVICES)
@require_POST
def checkout_quote(request: HttpRequest) -> HttpResponse:
    """htmx: the final step's summary recomputed with a promo code (or its refusal) and the
    points to pay with."""
    code = request.POST.get("promo_code", "").strip()[:50]
    try:
        page = _get_page(request, request.POST, promo_code=code, bonus_points=_points(request.POST))
    except BillowError as exc:
        return refused(request, exc, "web:cart")
    page.step = "final"
    template = "web/shop/_summary.html" if request.htmx else "web/shop/checkout.html"  # type: ignore[attr-defined]
    return render(request, template, _checkout_context(request, page))


@client_view(SERVICES)
@require_POST
def checkout_pay(request: HttpRequest) -> HttpResponse:
    """Check out the cart with the chosen payer and method; then pay: from the balance at once,
    or through the method's gateway (hosted page or instructions) for the shortfall."""
    if not _may_pay(request):
        return _no_pay(request)
    form = forms.CheckoutPayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the order details."))
        return redirect("web:checkout")
    data = form.cleaned_data
    client = client_of(request)
    payer = shop.find_payer(client, data["payer"]) if data["payer"] else None
    if data["payer"] and payer is None:
        raise Http404("no such payer")
    method = data["method"]
    back = _checkout_url(data["provider"], payer=data["payer"], method=method)
    currency = shop.cart_currency(client, data["provider"])
    if currency is None:
        messages.error(request, _("The cart is empty (cart_empty)."))
        return redirect("web:order_list")
    if method != shop.BALANCE:
        methods = shop.list_checkout_methods(client, data["provider"], currency)
        if method not in {str(m.pk) for m in methods}:
            messages.error(request, _("Choose a payment method."))
            return redirect(_checkout_url(data["provider"], step="details"))
    try:
        result = orders.checkout(
            client=client,
            provider_id=data["provider"],
            promo_code=data["promo_code"],
            bonus_points=data["bonus_points"] or 0,
            payer=payer,
            payment_method="" if method == shop.BALANCE else method,
            actor=actor_of(request),
        )
    except BillowError as exc:
        messages.error(request, f"{exc} ({exc.code})")
        return redirect(back)
    refusal = result.payment_refusal
    if refusal is not None:
        # The order was placed, then its payment refused (e.g. the method's minimum): the
        # order page offers the methods again.
        messages.error(request, f"{refusal} ({refusal.code})")
        return redirect(ORDER, result.order.pk)
    if result.paid:
        messages.success(
            request, _("Order #%(id)s is paid from your balance.") % {"id": result.order.pk}
        )
        return redirect(ORDER, result.order.pk)
    return _go_pay(request, result.order, result.payment)


def _go_pay(request: HttpRequest, order: Order, payment: Payment | None) -> HttpResponse:
    """Start ``payment`` and send the client to the gateway's page, or to the order page (bank
    instructions, or no payment yet: the order page offers the methods)."""
    if payment is None:
        messages.warning(request, _("Order #%(id)s waits for payment.") % {"id": order.pk})
        return redirect(ORDER, order.pk)
    return_url = request.build_absolute_uri(reverse(ORDER, args=[order.pk]))
    try:
        payment = payments.start_payment(
            payment=payment, return_url=return_url, actor=actor_of(request)
        )
    except BillowError as exc:
        return refused(request, exc, ORDER, order.pk)
    if payment.redirect_url and payment.status in ("new", "pending", "unknown"):
        return redirect(payment.redirect_url)
    if payment.instructions:
        messages.info(
            request, _("Order #%(id)s: follow the payment instructions below.") % {"id": order.pk}
        )
    return redirect(ORDER, order.pk)


# -- orders -----------------------------------------------------------------------------------


@client_view(SERVICES)
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    rows = shop.list_orders(client_of(request))[:200]
    return render(request, "web/shop/orders.html", {"orders": rows})


@client_view(SERVICES)
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_of(request)
    page = shop.get_order_page(client, shop.get_order(client, pk))
    context = {
        "page": page,
        "o": page.order,
        "may_pay": _may_pay(request),
        "period_labels": shop.PERIOD_LABELS,
    }
    return render(request, "web/shop/order.html", context)


@client_view(SERVICES)
@require_POST
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = shop.get_order(client_of(request), pk)
    try:
        orders.cancel_order(order=order, actor=actor_of(request))
    except BillowError as exc:
        return refused(request, exc, ORDER, pk)
    messages.success(request, _("Order #%(id)s was cancelled.") % {"id": pk})
    return redirect(ORDER, pk)


@client_view(SERVICES)
@require_POST
def order_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Pay an order awaiting payment: from the balance when it covers the total now, else a new
    payment of the shortfall through the chosen method."""
    client = client_of(request)
    order = shop.get_order(client, pk)
    if not _may_pay(request):
        return _no_pay(request)
    if order.status != OrderStatus.AWAITING_PAYMENT:
        messages.error(request, _("This order is not waiting for payment (order_not_open)."))
        return redirect(ORDER, pk)
    method = shop.find_order_method(client, order, request.POST.get("method", ""))
    try:
        result = orders.pay_order(order=order, method=method, actor=actor_of(request))
    except BillowError as exc:
        if exc.code == "payment_method_required":
            messages.error(request, _("Choose a payment method."))
            return redirect(ORDER, pk)
        return refused(request, exc, ORDER, pk)
    if result.payment is None:
        if result.paid:
            messages.success(request, _("Order #%(id)s is paid.") % {"id": pk})
        return redirect(ORDER, pk)
    return _go_pay(request, order, result.payment)


# -- quick-ordered services -------------------------------------------------------------------


@client_view(SERVICES)
@require_http_methods(["GET", "POST"])
def service_configure(request: HttpRequest, pk: int) -> HttpResponse:
    """The parameters of a quick-ordered service; saving them opens it."""
    service, parameters = shop.get_service_to_configure(client_of(request), pk)
    if not shop.awaits_configuration(service):
        messages.error(request, _("This service is not waiting for configuration."))
        return redirect("web:service_detail", pk)
    form = forms.ConfigureServiceForm(request.POST or None, parameters=parameters)
    if request.method == "POST" and form.is_valid():
        try:
            orders.configure_quick_service(
                service=service, parameters=form.parameters(), actor=actor_of(request)
            )
        except BillowError as exc:
            return refused(request, exc, "web:service_configure", pk)
        messages.success(request, _("The parameters were saved; the service is being opened."))
        return redirect("web:service_detail", pk)
    deadline = configure_deadline(service)
    context = {"s": service, "form": form, "deadline": deadline}
    return render(request, "web/shop/configure_service.html", context)
