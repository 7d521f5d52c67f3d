"""Promised payments (reference §1.14): a one-off temporary credit that resumes the services
suspended for non-payment at once.

A client takes the amount and days of its billing policy (``billing.terms.get_promise_offer``
says whether it may); staff may grant any amount and days, and revoke a running one. The open
promise is mirrored on ``ClientBillingSettings`` (the wallet's extra credit while ``day <
promised_until``); on its day the billing run closes it (``billing.credit``): repaid when the
balance is back within the limit, else lapsed, and the services are suspended again until it is.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction

from billow.accounts.models import Client, Provider
from billow.billing.actions.resume import resume_paid_services
from billow.billing.errors import PromisedPaymentError
from billow.billing.models import ClientBillingSettings, PromisedPayment, PromiseStatus
from billow.billing.terms import get_promise_offer
from billow.billing.wallet import lock_wallet
from billow.core import clock
from billow.core.actors import Actor, resolve_actor
from billow.core.money import check_amount, exponent


def take_promised_payment(
    *,
    client: Client,
    provider: Provider,
    currency: str,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> PromisedPayment:
    """The client takes its policy's promised payment and its suspended services resume.

    Refusals (nothing written): the codes of ``get_promise_offer``. Locks the wallet first."""
    moment = clock.now(now)
    day = moment.date()
    exponent(currency)
    with transaction.atomic():
        lock_wallet(client.pk, provider.pk, currency)
        offer = get_promise_offer(client.pk, provider.pk, currency, day)
        if offer.refusal:
            raise PromisedPaymentError(
                "the promised payment is not available",
                code=offer.refusal,
                available_on=offer.available_on.isoformat() if offer.available_on else None,
            )
        return _open(
            client, provider, currency, offer.amount_minor, day, offer.days, actor, moment, False
        )


def grant_promised_payment(
    *,
    client: Client,
    provider: Provider,
    currency: str,
    amount_minor: int,
    days: int,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> PromisedPayment:
    """Staff grant a promised payment of ``amount_minor`` for ``days`` (whatever the policy and
    its interval). Refusals: ``invalid_promised_payment``, ``promised_payment_postpaid``,
    ``promised_payment_active``."""
    moment = clock.now(now)
    exponent(currency)
    check_amount(amount_minor, field="amount_minor")
    if amount_minor <= 0 or days <= 0:
        raise PromisedPaymentError(
            "the amount and the days must be positive", code="invalid_promised_payment"
        )
    with transaction.atomic():
        lock_wallet(client.pk, provider.pk, currency)
        settings = _settings(client.pk, currency)
        if settings is not None and settings.postpaid:
            raise PromisedPaymentError("post-paid clients", code="promised_payment_postpaid")
        until = settings.promised_until if settings is not None else None
        if until is not None and moment.date() < until:
            raise PromisedPaymentError("one is running", code="promised_payment_active")
        return _open(
            client, provider, currency, amount_minor, moment.date(), days, actor, moment, True
        )


def revoke_promised_payment(
    *,
    client: Client,
    currency: str,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> PromisedPayment:
    """Staff end the running promise today: the credit is gone and the next run treats the
    client as on the promise's day (suspended again while the balance is below the limit).
    Refusal: ``promised_payment_not_active``."""
    moment = clock.now(now)
    day = moment.date()
    with transaction.atomic():
        settings = _settings(client.pk, currency)  # no money moves: the terms' row is the lock
        promise = (
            PromisedPayment.objects.select_for_update()
            .filter(client_id=client.pk, currency=currency, status=PromiseStatus.ACTIVE)
            .first()
        )
        if promise is None or settings is None or settings.promised_until is None:
            raise PromisedPaymentError("no promise is running", code="promised_payment_not_active")
        if settings.promised_until <= day:
            raise PromisedPaymentError("no promise is running", code="promised_payment_not_active")
        settings.promised_minor, settings.promised_until = 0, day
        settings.updated_at = moment
        settings.save(update_fields=["promised_minor", "promised_until", "updated_at"])
        promise.status, promise.closed_at = PromiseStatus.REVOKED, moment
        promise.closed_by = str(resolve_actor(actor))[:100]
        promise.save(update_fields=["status", "closed_at", "closed_by"])
    return promise


def _settings(client_id: int, currency: str) -> ClientBillingSettings | None:
    return (
        ClientBillingSettings.objects.select_for_update()
        .filter(client_id=client_id, currency=currency)
        .first()
    )


def _open(
    client: Client,
    provider: Provider,
    currency: str,
    amount_minor: int,
    day: date,
    days: int,
    actor: Actor | None,
    moment: datetime,
    by_staff: bool,
) -> PromisedPayment:
    until = day + timedelta(days=days)
    ClientBillingSettings.objects.update_or_create(
        client=client,
        currency=currency,
        defaults={"promised_minor": amount_minor, "promised_until": until, "updated_at": moment},
    )
    # a lapsed promise repaid since is closed by the run; one still marked active is not
    PromisedPayment.objects.filter(
        client=client, currency=currency, status=PromiseStatus.ACTIVE
    ).update(status=PromiseStatus.REPAID, closed_at=moment, closed_by="superseded")
    promise = PromisedPayment.objects.create(
        client=client,
        currency=currency,
        amount_minor=amount_minor,
        taken_on=day,
        expires_on=until,
        granted_by_staff=by_staff,
        actor=str(resolve_actor(actor))[:100],
        created_at=moment,
    )
    resume_paid_services(client_id=client.pk, currency=currency, now=moment)
    return promise
