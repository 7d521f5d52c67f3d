"""Payment pages mounted at ``/pay/``: the sandbox hosted page and the webhook endpoint.

Thin (STYLE §1): parse the request, call one action, render.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from billow.core.errors import BillowError, NotFoundError, RetryableError
from billow.core.money import Money
from billow.payments.actions import handle_webhook
from billow.payments.actions.sandbox import check_sandbox_token, submit_sandbox_choice
from billow.payments.errors import PaymentNotFoundError
from billow.payments.models import Payment
from billow.payments.return_urls import return_url_allowed
from billow.payments.selectors import get_payment


def _sandbox_payment(payment_id: int, token: str) -> Payment:
    try:
        payment = get_payment(payment_id)
    except PaymentNotFoundError:
        raise Http404 from None
    if not check_sandbox_token(payment=payment, token=token):
        raise Http404
    return payment


@require_http_methods(["GET", "POST"])
def sandbox_page(request: HttpRequest, payment_id: int, token: str) -> HttpResponse:
    """GET: the payment page (Succeed / Fail / Leave pending). POST: the payer's choice."""
    payment = _sandbox_payment(payment_id, token)
    if request.method == "POST":
        choice = request.POST.get("choice", "")
        try:
            payment = submit_sandbox_choice(payment=payment, token=token, choice=choice)
        except BillowError as exc:
            return render(
                request,
                "payments/sandbox/page.html",
                _context(payment, token, error=exc.code),
                status=400,
            )
        if payment.return_url and return_url_allowed(
            payment.return_url, own_host=request.get_host()
        ):
            return redirect(payment.return_url)
        return redirect(reverse("payments:sandbox_done", args=[payment.pk, token]))
    return render(request, "payments/sandbox/page.html", _context(payment, token))


def sandbox_done(request: HttpRequest, payment_id: int, token: str) -> HttpResponse:
    payment = _sandbox_payment(payment_id, token)
    return render(request, "payments/sandbox/done.html", _context(payment, token))


def _context(payment: Payment, token: str, error: str = "") -> dict[str, object]:
    return {
        "payment": payment,
        "token": token,
        "amount": Money(payment.amount_minor, payment.currency),
        "commission": Money(payment.commission_minor, payment.currency),
        "total": Money(payment.total_minor, payment.currency),
        "is_open": payment.status in ("new", "pending", "unknown"),
        "error": error,
    }


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, gateway: str, method_id: int | None = None) -> JsonResponse:
    """Gateways POST here: 200 when stored (also for duplicates), 400 when untrusted, 404 for an
    unknown gateway, 503 when verification could not reach the gateway (they retry)."""
    try:
        event = handle_webhook(
            gateway=gateway, headers=dict(request.headers), body=request.body, method_id=method_id
        )
    except NotFoundError as exc:
        return JsonResponse(exc.as_dict(), status=404)
    except RetryableError as exc:
        return JsonResponse(exc.as_dict(), status=503)
    except BillowError as exc:
        return JsonResponse(exc.as_dict(), status=400)
    return JsonResponse({"status": event.status, "result": event.result_code, "id": event.pk})
