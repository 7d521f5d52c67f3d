"""The client area's money pages: top up the balance (with a commission preview and one-click
payment from a saved method), payments, invoices and credit notes (with their PDFs) and saved
payment methods."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billow.accounts.models import Client, ClientPermission
from billow.core.errors import BillowError
from billow.core.money import Money
from billow.invoicing.pdf import render_credit_note_pdf, render_invoice_pdf
from billow.invoicing.selectors import get_credit_note_for_client, list_documents_for_client
from billow.payments.actions import charge_saved_method, create_payment, start_payment
from billow.payments.actions.saved_methods import remove_saved_method, update_saved_method
from billow.payments.models import Payment, PaymentPurpose
from billow.payments.states import PaymentStatus
from billow.web import formatting, forms
from billow.web import money_selectors as selectors
from billow.web.access import actor_of, client_of, client_view
from billow.web.views.common import refused

BILLING = ClientPermission.BILLING
PAYMENT = "web:payment_detail"
METHODS = "web:saved_methods"


# -- top-up -----------------------------------------------------------------------------------


def _topup_context(client: Client, data: Any, *, submitted: bool) -> dict[str, Any]:
    """The form for the currency in ``data`` and the quote of what it holds so far.

    A submitted form is bound (its errors shown); otherwise (first view, currency switch,
    preview) ``data`` only pre-fills a fresh form with a new nonce, the method shown first
    preselected unless ``data`` names another one of the currency: no errors before submit.
    """
    options = selectors.get_topup_options(client, currency=data.get("currency", ""))
    kwargs: dict[str, Any] = {"currencies": options.currencies, "methods": options.methods}
    parsed = forms.TopUpForm(data, **kwargs)
    parsed.is_valid()
    values = parsed.cleaned_data
    if submitted:
        form = parsed
    else:
        first = options.methods[0].pk if options.methods else None
        initial = {
            "currency": options.currency,
            "nonce": uuid.uuid4().hex,
            "amount": data.get("amount", ""),
            "method": values.get("method", first),
            "save_method": values.get("save_method", False),
        }
        form = forms.TopUpForm(initial=initial, **kwargs)
    chosen = values.get("method", form.initial.get("method"))
    method = next((m for m in options.methods if m.pk == chosen), None)
    amount: int | None = values.get("amount_minor")
    if amount is not None and amount <= 0:
        amount = None
    quote = selectors.quote_payment(method, amount) if method and amount is not None else None
    one_click = [
        (s, selectors.quote_payment(s.method, amount) if amount is not None else None)
        for s in options.saved
    ]
    can_save = method is not None and selectors.supports_one_click(method)
    return {
        "form": form,
        "options": options,
        "section": "topup",
        "error": "",
        "method": method,
        "quote": quote,
        "one_click": one_click,
        "can_save": can_save,
    }


@client_view(BILLING)
@require_http_methods(["GET", "POST"])
def top_up(request: HttpRequest) -> HttpResponse:
    """GET: the form (htmx: only the form, for another currency). POST: create the payment
    (the nonce makes a double submit one payment), start it, go to the gateway's page or to
    the payment (bank-transfer instructions)."""
    client = client_of(request)
    if request.method == "GET":
        context = _topup_context(client, request.GET, submitted=False)
        htmx = bool(request.htmx)  # type: ignore[attr-defined]
        return render(request, f"web/money/{'_topup_form' if htmx else 'top_up'}.html", context)
    context = _topup_context(client, request.POST, submitted=True)
    form = context["form"]
    if not form.is_valid():
        return render(request, "web/money/top_up.html", context)
    data = form.cleaned_data
    try:
        payment = create_payment(
            client=client,
            amount=Money(data["amount_minor"], data["currency"]),
            method=data["method"],
            purpose=PaymentPurpose.TOPUP,
            idempotency_key=f"web-topup:{client.pk}:{data['nonce']}",
            save_method=data["save_method"] and context["can_save"],
            actor=actor_of(request),
        )
    except BillowError as exc:
        if exc.code == "idempotency_key_reused":  # this page was submitted before with other
            fresh = request.POST.copy()  # values (back button): a new nonce lets them resubmit
            fresh["nonce"] = uuid.uuid4().hex
            context = _topup_context(client, fresh, submitted=True)
        context["error"] = f"{exc} ({exc.code})"
        return render(request, "web/money/top_up.html", context)
    return _go_pay(request, payment)


def _go_pay(request: HttpRequest, payment: Payment) -> HttpResponse:
    """Start ``payment`` (a started one is returned as it is) and send the payer on."""
    page = request.build_absolute_uri(reverse(PAYMENT, args=[payment.pk]))
    try:
        payment = start_payment(payment=payment, return_url=page, actor=actor_of(request))
    except BillowError as exc:
        return refused(request, exc, PAYMENT, payment.pk)
    if payment.redirect_url and payment.status in selectors.OPEN:
        return redirect(payment.redirect_url)
    return redirect(PAYMENT, payment.pk)


@client_view(BILLING)
@require_GET
def top_up_preview(request: HttpRequest) -> HttpResponse:
    """htmx partial: amount + commission = total to pay, the save checkbox, one-click buttons."""
    context = _topup_context(client_of(request), request.GET, submitted=False)
    return render(request, "web/money/_topup_preview.html", context)


@client_view(BILLING)
@require_POST
def top_up_saved(request: HttpRequest, pk: int) -> HttpResponse:
    """One-click payment of the form's amount from saved method ``pk`` (the payer is here, so
    the auto-payment maximum does not apply)."""
    client = client_of(request)
    saved = selectors.get_saved_method(client, pk)
    options = selectors.get_topup_options(client, currency=request.POST.get("currency", ""))
    form = forms.TopUpAmountForm(request.POST, currencies=options.currencies)
    if not form.is_valid():
        messages.error(request, _("Enter the amount to pay."))
        return redirect("web:top_up")
    data = form.cleaned_data
    try:
        payment = charge_saved_method(
            saved_method=saved,
            amount=Money(data["amount_minor"], data["currency"]),
            idempotency_key=f"web-oneclick:{client.pk}:{data['nonce']}",
            auto=False,
            actor=actor_of(request),
        )
    except BillowError as exc:
        return refused(request, exc, "web:top_up")
    if payment.status == PaymentStatus.PAID:
        messages.success(request, _("The payment was received. Thank you!"))
    elif payment.status == PaymentStatus.FAILED:
        messages.error(
            request, _("The payment was declined (%(code)s).") % {"code": payment.failure_code}
        )
    return redirect(PAYMENT, payment.pk)


# -- payments ---------------------------------------------------------------------------------


@client_view(BILLING)
@require_GET
def payment_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.list_payments(client_of(request)), 50).get_page(
        request.GET.get("page")
    )
    rows = [(p, selectors.order_url(p.reference)) for p in page]
    return render(
        request, "web/money/payments.html", {"page": page, "rows": rows, "section": "payments"}
    )


@client_view(BILLING)
@require_GET
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    payment = selectors.get_payment(client_of(request), pk)
    context = {
        "p": payment,
        "order_url": selectors.order_url(payment.reference),
        "refunds": selectors.list_refunds(payment),
        "is_open": payment.status in selectors.OPEN,
        "section": "payments",
    }
    return render(request, "web/money/payment.html", context)


# -- invoices ---------------------------------------------------------------------------------


@client_view(BILLING)
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    """The client's invoices and credit notes, newest first, filtered by the days they were
    issued, status and type (a bad filter: the form's errors, status 400, no rows)."""
    filters = forms.DocumentFilterForm(request.GET)
    page = None
    if filters.is_valid():
        data = filters.cleaned_data
        documents = list_documents_for_client(
            client_of(request).pk,
            date_from=data["date_from"],
            date_to=data["date_to"],
            status=data["status"] or None,
            kind=data["kind"] or None,
        )
        page = Paginator(documents, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": page, "filters": filters, "query": query.urlencode(), "section": "invoices"}
    status = 200 if page is not None else 400
    return render(request, "web/money/invoices.html", context, status=status)


@client_view(BILLING)
@require_GET
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = selectors.get_invoice(client_of(request), pk)
    return render(request, "web/money/invoice.html", {"inv": invoice, "section": "invoices"})


def _pdf(content: bytes, number: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{number}.pdf"'
    return response


@client_view(BILLING)
@require_GET
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = selectors.get_invoice(client_of(request), pk)
    return _pdf(render_invoice_pdf(invoice), invoice.display_number)


@client_view(BILLING)
@require_GET
def credit_note_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    note = get_credit_note_for_client(client_of(request).pk, pk)
    if note is None:
        raise Http404("no such credit note")
    return _pdf(render_credit_note_pdf(note), note.display_number)


# -- saved payment methods --------------------------------------------------------------------


@client_view(BILLING)
@require_GET
def saved_methods(request: HttpRequest) -> HttpResponse:
    rows = [
        (s, forms.AutoPaymentForm(currency=s.method.currency, initial=_maximum(s)))
        for s in selectors.list_saved_methods(client_of(request))
    ]
    return render(request, "web/money/methods.html", {"rows": rows, "section": "methods"})


def _maximum(saved: Any) -> dict[str, Any]:
    if saved.auto_payment_max_minor is None:
        return {}
    return {"maximum": Money(saved.auto_payment_max_minor, saved.method.currency).to_decimal()}


@client_view(BILLING)
@require_POST
def saved_method_default(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_of(request)
    saved = selectors.get_saved_method(client, pk)
    try:
        update_saved_method(
            client=client, saved_method=saved, is_default=True, actor=actor_of(request)
        )
    except BillowError as exc:
        return refused(request, exc, METHODS)
    messages.success(
        request, _("%(label)s is now your default payment method.") % {"label": saved.label}
    )
    return redirect(METHODS)


@client_view(BILLING)
@require_POST
def saved_method_auto(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the auto-payment maximum, or clear it (empty field or the clear button)."""
    client = client_of(request)
    saved = selectors.get_saved_method(client, pk)
    form = forms.AutoPaymentForm(request.POST, currency=saved.method.currency)
    if not form.is_valid():
        for error in form.errors.get("maximum", []):
            messages.error(request, str(error))
        return redirect(METHODS)
    maximum = form.cleaned_data["maximum"]
    try:
        update_saved_method(
            client=client,
            saved_method=saved,
            auto_payment_max_minor=maximum,
            actor=actor_of(request),
        )
    except BillowError as exc:
        return refused(request, exc, METHODS)
    if maximum is None:
        messages.success(request, _("Auto-payment from %(label)s is off.") % {"label": saved.label})
    else:
        messages.success(
            request,
            _("Auto-payment from %(label)s: at most %(max)s per payment.")
            % {"label": saved.label, "max": formatting.money(maximum, saved.method.currency)},
        )
    return redirect(METHODS)


@client_view(BILLING)
@require_POST
def saved_method_remove(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_of(request)
    saved = selectors.get_saved_method(client, pk)
    try:
        remove_saved_method(client=client, saved_method=saved, actor=actor_of(request))
    except BillowError as exc:
        return refused(request, exc, METHODS)
    messages.success(request, _("%(label)s was removed.") % {"label": saved.label})
    return redirect(METHODS)
