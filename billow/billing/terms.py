"""Reads of credit terms: a client's billing policy, its overdue state and its promised-payment
offer (what the client area, the API and the promised-payment actions show and check)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import TYPE_CHECKING

from django.db.models import Q

from billow.accounts.models import ClientGroupMembership
from billow.accounts.selectors import list_provider_ids_for_client
from billow.billing.models import (
    BillingPolicy,
    ClientBillingSettings,
    PromisedPayment,
    PromiseStatus,
)
from billow.billing.overdue import CreditTerms, Overdue, UnpaidInvoice, overdue_state
from billow.invoicing.models import Invoice, InvoiceStatus
from billow.ledger.models import AccountKind, LedgerAccount

if TYPE_CHECKING:  # the wallet's lock imports this module
    from billow.billing.wallet.balance import Wallet


def default_policy() -> BillingPolicy:
    """The policy of a provider without one: the fields' defaults (an unsaved row)."""
    return BillingPolicy()


def get_billing_policy(client_id: int, provider_id: int, currency: str) -> BillingPolicy:
    """The policy of one of the client's groups (lowest group id) for the provider and
    currency, else the provider's, else the defaults (an unsaved row)."""
    groups = ClientGroupMembership.objects.filter(client_id=client_id).values("group_id")
    rows = sorted(
        BillingPolicy.objects.filter(provider_id=provider_id, currency=currency).filter(
            Q(client_group__isnull=True) | Q(client_group_id__in=groups)
        ),
        key=lambda p: (p.client_group_id is None, p.client_group_id or 0),
    )
    return rows[0] if rows else default_policy()


def policies_for_clients(
    client_ids: list[int], provider_id: int, currency: str
) -> dict[int, BillingPolicy]:
    """``get_billing_policy`` for many clients of one provider and currency (two queries)."""
    rows = list(BillingPolicy.objects.filter(provider_id=provider_id, currency=currency))
    default = next((p for p in rows if p.client_group_id is None), None) or default_policy()
    by_group = {p.client_group_id: p for p in rows if p.client_group_id is not None}
    out = dict.fromkeys(client_ids, default)
    if by_group:
        memberships = ClientGroupMembership.objects.filter(
            client_id__in=client_ids, group_id__in=by_group
        ).order_by("-group_id")
        for client_id, group_id in memberships.values_list("client_id", "group_id"):
            out[client_id] = by_group[group_id]  # the lowest group id is written last
    return out


def get_credit_terms(
    client_id: int, currency: str
) -> tuple[ClientBillingSettings | None, CreditTerms]:
    settings = ClientBillingSettings.objects.filter(client_id=client_id, currency=currency).first()
    if settings is None:
        return None, CreditTerms()
    terms = CreditTerms(
        settings.respite_unlimited, settings.respite_days, settings.block_days, settings.postpaid
    )
    return settings, terms


def get_overdue(client_id: int, currency: str, day: date) -> Overdue:
    """The client's overdue state in ``currency`` on ``day`` (all providers together)."""
    _, terms = get_credit_terms(client_id, currency)
    rows = Invoice.objects.filter(
        client_id=client_id, currency=currency, status=InvoiceStatus.ISSUED, due_on__isnull=False
    ).values_list("id", "issued_at", "due_on")
    unpaid = [
        UnpaidInvoice(pk, issued.astimezone(UTC).date(), due_on)
        for pk, issued, due_on in rows
        if due_on is not None
    ]
    return overdue_state(terms, unpaid, day)


@dataclass(frozen=True, slots=True)
class PromiseOffer:
    """Whether the client may take a promised payment now (``refusal`` empty), of what amount
    and until when; ``active`` is the running promise if there is one."""

    amount_minor: int
    currency: str
    days: int
    refusal: str = ""
    available_on: date | None = None
    active: PromisedPayment | None = None

    @property
    def available(self) -> bool:
        return not self.refusal


def get_promise_offer(client_id: int, provider_id: int, currency: str, day: date) -> PromiseOffer:
    """The promised payment a client may take on ``day``. Refusal codes: ``promised_payment_
    unavailable`` (the policy offers none), ``promised_payment_postpaid``, ``promised_payment_
    active`` (one is running), ``promised_payment_unpaid`` (the last one lapsed and the balance
    is still below the limit), ``promised_payment_too_soon`` (one was taken within the
    policy's interval; ``available_on`` says when)."""
    policy = get_billing_policy(client_id, provider_id, currency)
    offer = PromiseOffer(policy.promised_amount_minor, currency, policy.promised_days)
    if policy.promised_amount_minor <= 0 or policy.promised_days <= 0:
        return _refused(offer, "promised_payment_unavailable")
    settings, _ = get_credit_terms(client_id, currency)
    if settings is not None and settings.postpaid:
        return _refused(offer, "promised_payment_postpaid")
    active = PromisedPayment.objects.filter(
        client_id=client_id, currency=currency, status=PromiseStatus.ACTIVE
    ).first()
    if settings is not None and settings.promised_until is not None:
        if day < settings.promised_until:
            return _refused(offer, "promised_payment_active", active=active)
        return _refused(offer, "promised_payment_unpaid")
    last = (
        PromisedPayment.objects.filter(client_id=client_id, currency=currency)
        .order_by("-taken_on", "-id")
        .values_list("taken_on", flat=True)
        .first()
    )
    if last is not None:
        next_on = last + timedelta(days=policy.promised_interval_days)
        if day < next_on:
            return _refused(offer, "promised_payment_too_soon", available_on=next_on)
    return offer


def _refused(
    offer: PromiseOffer,
    code: str,
    *,
    available_on: date | None = None,
    active: PromisedPayment | None = None,
) -> PromiseOffer:
    return PromiseOffer(offer.amount_minor, offer.currency, offer.days, code, available_on, active)


def list_credit_currencies(client_id: int) -> list[str]:
    """The currencies the client has credit terms or unpaid invoices with a due date in."""
    with_terms = ClientBillingSettings.objects.filter(client_id=client_id).values_list(
        "currency", flat=True
    )
    with_invoices = Invoice.objects.filter(
        client_id=client_id, status=InvoiceStatus.ISSUED, due_on__isnull=False
    ).values_list("currency", flat=True)
    return sorted({*with_terms, *with_invoices})


def list_client_provider_ids(client_id: int) -> set[int]:
    """The providers a client buys from (its providers, and those it has a balance with)."""
    return set(list_provider_ids_for_client(client_id)) | set(
        LedgerAccount.objects.filter(
            client_id=client_id, kind=AccountKind.CLIENT_BALANCE, provider__isnull=False
        ).values_list("provider_id", flat=True)
    )


def apply_terms_to_wallet(wallet: Wallet, client_id: int, currency: str, day: date) -> None:
    """A single use case's wallet (``lock_wallet``) under the client's credit terms, as the
    billing run sees it (``billing.credit``): a running promise adds its amount to the credit;
    a blocked client (overdue past respite and block date, or a lapsed promise still owed) gets
    no credit. One or two queries, only for clients with billing settings."""
    settings, _ = get_credit_terms(client_id, currency)
    if settings is None or settings.postpaid:
        return
    until = settings.promised_until
    if until is not None and day < until:
        wallet.credit_limit_minor += settings.promised_minor
        return
    lapsed = until is not None and wallet.available_minor < 0
    if lapsed or (
        settings.block_days is not None and get_overdue(client_id, currency, day).blocked
    ):
        wallet.credit_limit_minor, wallet.blocked = 0, True
