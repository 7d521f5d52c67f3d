"""Payment reads."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from billow.accounts.models import Client, ClientGroupMembership
from billow.payments.errors import PaymentError, PaymentNotFoundError
from billow.payments.models import Payment, PaymentMethod, SavedPaymentMethod
from billow.payments.states import PaymentStatus


def get_payment_method(method: PaymentMethod | int | str) -> PaymentMethod:
    """A method given as an instance, an id or an id in text (``payment_method_not_found``)."""
    if isinstance(method, PaymentMethod):
        return method
    try:
        pk = int(method)
    except (TypeError, ValueError):
        raise PaymentError("no such payment method", code="payment_method_not_found") from None
    found = PaymentMethod.objects.filter(pk=pk).first()
    if found is None:
        raise PaymentError("no such payment method", code="payment_method_not_found")
    return found


def get_payment(payment_id: int) -> Payment:
    payment = Payment.objects.select_related("method", "client").filter(pk=payment_id).first()
    if payment is None:
        raise PaymentNotFoundError(f"no payment {payment_id}")
    return payment


def client_may_use_method(client: Client, method: PaymentMethod) -> bool:
    """True when the method has no group restriction or the client is in one of its groups."""
    groups = list(method.client_groups.values_list("id", flat=True))
    if not groups:
        return True
    return ClientGroupMembership.objects.filter(client=client, group_id__in=groups).exists()


def last_used_method_id(client: Client, provider_id: int) -> int | None:
    """The method of the client's latest paid payment with this provider (shown first)."""
    return (
        Payment.objects.filter(client=client, provider_id=provider_id, status=PaymentStatus.PAID)
        .order_by("-paid_at", "-id")
        .values_list("method_id", flat=True)
        .first()
    )


def list_payment_methods_for_client(
    client: Client, provider_id: int, currency: str | None = None
) -> list[PaymentMethod]:
    """Active methods the client may use, the last one they paid with first, then by sort."""
    qs = PaymentMethod.objects.filter(provider_id=provider_id, is_active=True)
    if currency:
        qs = qs.filter(currency=currency)
    last = last_used_method_id(client, provider_id)
    qs = qs.annotate(
        used_first=Case(When(pk=last, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("used_first", "sort", "id")
    return [m for m in qs.prefetch_related("client_groups") if client_may_use_method(client, m)]


def list_saved_methods_for_client(client: Client) -> QuerySet[SavedPaymentMethod]:
    return SavedPaymentMethod.objects.filter(client=client, is_active=True).select_related("method")


def list_payments_for_client(client: Client) -> QuerySet[Payment]:
    return Payment.objects.filter(client=client).select_related("method").order_by("-id")
