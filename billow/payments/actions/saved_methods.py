"""The payment methods a gateway saved for a client: remembered when a payment that asked to
save its method is paid; the client manages the default one, the auto-payment maximum, removal.

Removal deactivates (payments keep pointing at the row; the gateway token is never reused).
Only an active method can be the default, so removing the default leaves the client without
one until they choose another: auto-payment then stops rather than charging a method the
client did not pick.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from django.db import transaction

from billow.accounts.models import Client
from billow.core import clock
from billow.core.actors import Actor
from billow.payments.errors import PaymentError
from billow.payments.gateways.base import SavedMethodInfo
from billow.payments.models import Payment, SavedPaymentMethod


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: "Leave the auto-payment maximum as it is" (``None`` switches auto-payment off).
UNSET: Final = _Unset()


def _locked(client: Client, saved_method: SavedPaymentMethod | int) -> SavedPaymentMethod:
    pk = saved_method if isinstance(saved_method, int) else saved_method.pk
    found = (
        SavedPaymentMethod.objects.select_for_update()
        .filter(pk=pk, client_id=client.pk, is_active=True)
        .first()
    )
    if found is None:
        raise PaymentError("no such saved method", code="saved_method_not_found")
    return found


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def update_saved_method(
    *,
    client: Client,
    saved_method: SavedPaymentMethod | int,
    is_default: bool | None = None,
    auto_payment_max_minor: int | _Unset | None = UNSET,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> SavedPaymentMethod:
    """Make ``saved_method`` the client's default (``is_default=True``; False clears it) and/or
    set its auto-payment maximum in minor units (``None``: auto-payment off).

    Refusals (nothing written): ``saved_method_not_found`` (another client's, removed or
    unknown), ``invalid_amount`` (a maximum that is not a positive integer).
    """
    value = auto_payment_max_minor
    if not isinstance(value, _Unset) and value is not None and not _positive_int(value):
        raise PaymentError(
            "the auto-payment maximum must be a positive amount", code="invalid_amount"
        )
    with transaction.atomic():
        saved = _locked(client, saved_method)
        fields: list[str] = []
        if is_default is True and not saved.is_default:
            SavedPaymentMethod.objects.filter(client_id=client.pk, is_default=True).update(
                is_default=False
            )
            saved.is_default = True
            fields.append("is_default")
        elif is_default is False and saved.is_default:
            saved.is_default = False
            fields.append("is_default")
        if not isinstance(auto_payment_max_minor, _Unset):
            saved.auto_payment_max_minor = auto_payment_max_minor
            fields.append("auto_payment_max_minor")
        if fields:
            saved.save(update_fields=fields)
    return saved


def remove_saved_method(
    *,
    client: Client,
    saved_method: SavedPaymentMethod | int,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> SavedPaymentMethod:
    """Deactivate the method (no longer offered, never charged again, no longer default).
    ``saved_method_not_found`` for another client's or an already removed one."""
    with transaction.atomic():
        saved = _locked(client, saved_method)
        saved.is_active = False
        saved.is_default = False
        saved.auto_payment_max_minor = None
        saved.save(update_fields=["is_active", "is_default", "auto_payment_max_minor"])
    return saved


def remember_saved_method(
    *, payment: Payment, saved: SavedMethodInfo, now: datetime | None = None
) -> SavedPaymentMethod:
    """Keep the method the gateway saved for ``payment``'s client (once per token); the first
    one a client saves becomes their default. Joins the caller's transaction."""
    with transaction.atomic():
        method, created = SavedPaymentMethod.objects.get_or_create(
            method_id=payment.method_id,
            gateway_token=saved.token,
            defaults={
                "client_id": payment.client_id,
                "label": saved.label[:100],
                "created_at": clock.now(now),
            },
        )
        if (
            created
            and not SavedPaymentMethod.objects.filter(
                client_id=payment.client_id, is_default=True
            ).exists()
        ):
            method.is_default = True
            method.save(update_fields=["is_default"])
    return method
