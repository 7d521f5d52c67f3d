"""Invoices ahead of renewals and the recommended amount to pay (reference §1.12, §1.14).

The window is BILLmanager's ``LowMoneyNoticePeriod``: a list of days (setting
``LOW_MONEY_NOTICE_PERIOD``, default ``0 1 2 3 4 5 10``) whose largest value ``n`` is how far
ahead renewals are looked at. What a client's renewals within ``n`` days need, in the order the
billing run spends the balance (``billing.autopay.spending_order``), each at what it will take
from the balance (its price plus the tax added on top: ``DueService.gross_minor``), less what
the wallet has available (balance + credit limit), is:

- the **recommended amount to pay** the client dashboard shows (``recommended_payments``);
- for a client who pays by invoice (its payer is invoiced on advance payments, it has neither
  post-paid nor a credit limit, and its billing policy has ``auto_invoice`` on), the total of
  an **invoice ahead of renewals** (``issue_auto_invoices``, daily): a line per renewal the
  balance does not cover (the one it partly covers, for the part it does not), no new one while
  one was issued within the last ``n`` days. It asks for money: it documents no charge (the
  renewal's own invoice does) and carries no tax line; it is settled once the balance holds its
  total (``billing.credit``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from billow.accounts.models import Client, InvoiceGeneration, Payer, Provider
from billow.billing.autopay import renewals_ahead
from billow.billing.credit import AUTO_INVOICE_PREFIX
from billow.billing.models import ClientBillingSettings
from billow.billing.monthly import billing_payer, payment_line
from billow.billing.plan import DueService, RunRules
from billow.billing.proration import next_period_end
from billow.billing.selectors import (
    PriceBook,
    candidate_services,
    load_autopay_data,
    service_labels,
)
from billow.billing.terms import policies_for_clients
from billow.billing.wallet import Wallet, WalletKey, lock_wallet
from billow.core import clock
from billow.core.actors import Actor
from billow.core.i18n import period_text
from billow.invoicing.due import issue_due_invoice
from billow.invoicing.models import Invoice

AUTO_INVOICE_ACTOR = Actor.job("auto_invoice")
DEFAULT_NOTICE_PERIOD = "0 1 2 3 4 5 10"


def notice_window_days() -> int:
    """The largest ``LowMoneyNoticePeriod`` value (``settings.BILLOW`` or the environment)."""
    raw = getattr(settings, "BILLOW", {}).get("LOW_MONEY_NOTICE_PERIOD")
    if raw is None:
        raw = os.environ.get("BILLOW_LOW_MONEY_NOTICE_PERIOD", DEFAULT_NOTICE_PERIOD)
    values = [int(v) for v in str(raw).replace(",", " ").split()]
    return max(values, default=0)


@dataclass(frozen=True, slots=True)
class Renewal:
    service_id: int
    period_from: date
    period_to: date
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Recommendation:
    """For one wallet: what the window's renewals need, what is available, and what to pay."""

    provider_id: int
    currency: str
    need_minor: int
    available_minor: int
    renewals: tuple[Renewal, ...]

    @property
    def amount_minor(self) -> int:
        return max(0, self.need_minor - self.available_minor)


def renewals_in_order(
    rules: RunRules, services: Sequence[DueService]
) -> dict[WalletKey, list[Renewal]]:
    """The window's renewals per wallet in spending order (as ``autopay.spending_order``:
    today's due ones by service id, then later ones by date)."""
    due: dict[WalletKey, list[tuple[int, date, Renewal]]] = {}
    later: dict[WalletKey, list[tuple[date, int, Renewal]]] = {}
    for s in services:
        for start, price in renewals_ahead(rules, s):
            assert s.renew_period is not None  # renewals_ahead yields none without one
            end = next_period_end(start, s.renew_period, s.billing_mode, s.anchor_day)
            renewal = Renewal(s.id, start, end, price)
            if start <= rules.date:
                due.setdefault(s.wallet_key, []).append((s.id, start, renewal))
            else:
                later.setdefault(s.wallet_key, []).append((start, s.id, renewal))
    return {
        key: [r for *_, r in sorted(due.get(key, []))] + [r for *_, r in sorted(later.get(key, []))]
        for key in due.keys() | later.keys()
    }


def uncovered(renewals: Sequence[Renewal], available_minor: int) -> list[Renewal]:
    """The renewals (or the part of one) ``available_minor`` does not pay, spending in order;
    they add up to ``max(0, need - available)``."""
    out: list[Renewal] = []
    left = available_minor
    for r in renewals:
        if left >= r.amount_minor:
            left -= r.amount_minor
            continue
        short = r.amount_minor - max(left, 0)
        left = min(left, 0)
        out.append(Renewal(r.service_id, r.period_from, r.period_to, short))
    return out


def recommend(
    renewals_by_wallet: dict[WalletKey, list[Renewal]], wallets: dict[WalletKey, Wallet]
) -> list[Recommendation]:
    """Pure: a recommendation per wallet with renewals in the window."""
    out = []
    for key, renewals in sorted(renewals_by_wallet.items()):
        wallet = wallets.get(key, Wallet(None, 0))
        if wallet.postpaid:
            continue
        need = sum(r.amount_minor for r in renewals)
        out.append(Recommendation(key[1], key[2], need, wallet.available_minor, tuple(renewals)))
    return out


def window_rules(day: date) -> RunRules:
    return RunRules(date=day, notice_days=notice_window_days())


def recommended_payments(client_id: int, *, day: date) -> list[Recommendation]:
    """What the client should pay per (provider, currency) for the renewals of the window
    (the dashboard's recommended amount); only wallets with something to pay."""
    rules = window_rules(day)
    services, wallets = load_autopay_data(rules, {client_id}, PriceBook())
    renewals = renewals_in_order(rules, services)
    return [r for r in recommend(renewals, wallets) if r.amount_minor > 0]


def invoiced_by_advance(client_ids: Sequence[int]) -> set[int]:
    """The clients who pay by invoice: a first active payer invoiced on advance payments, and
    neither post-paid nor a credit limit (reference §1.12)."""
    first_payer: dict[int, str] = {}
    rows = (
        Payer.objects.filter(client_id__in=list(client_ids), is_active=True)
        .order_by("client_id", "id")
        .values_list("client_id", "invoice_generation")
    )
    for client_id, generation in rows:
        first_payer.setdefault(client_id, generation)
    on_credit = set(
        ClientBillingSettings.objects.filter(client_id__in=list(client_ids))
        .exclude(credit_limit_minor=0, postpaid=False)
        .values_list("client_id", flat=True)
    )
    return {
        c
        for c, generation in first_payer.items()
        if generation == InvoiceGeneration.ADVANCE and c not in on_credit
    }


def issue_auto_invoices(*, day: date, now: datetime | None = None) -> list[Invoice]:
    """The day's invoices ahead of renewals (see the module docstring); a rerun issues none."""
    moment = clock.now(now) if now is not None else _moment(day)
    rules = window_rules(day)
    client_ids = sorted(set(candidate_services(rules).values_list("client_id", flat=True)))
    eligible = sorted(invoiced_by_advance(client_ids))
    if not eligible:
        return []
    services, _wallets = load_autopay_data(rules, set(eligible), PriceBook())
    issued = []
    keys = sorted(renewals_in_order(rules, services))
    clients_by_book: dict[tuple[int, str], list[int]] = {}
    for client_id, provider_id, currency in keys:
        clients_by_book.setdefault((provider_id, currency), []).append(client_id)
    policies = {  # one lookup per provider and currency, not per client
        book: policies_for_clients(clients, *book) for book, clients in clients_by_book.items()
    }
    for rec_key in keys:
        client_id, provider_id, currency = rec_key
        if not policies[(provider_id, currency)][client_id].auto_invoice:
            continue
        invoice = _issue_one(rec_key, rules, moment)
        if invoice is not None:
            issued.append(invoice)
    return issued


def _moment(day: date) -> datetime:
    current = clock.now()
    return current if current.date() == day else datetime.combine(day, time(0, 45), tzinfo=UTC)


def auto_reference(key: WalletKey, day: date) -> str:
    return f"{AUTO_INVOICE_PREFIX}{key[0]}:{key[2]}:{day.isoformat()}"


def _issue_one(key: WalletKey, rules: RunRules, now: datetime) -> Invoice | None:
    client_id, provider_id, currency = key
    window = notice_window_days()
    with transaction.atomic():
        wallet = lock_wallet(client_id, provider_id, currency)
        recent = Invoice.objects.filter(
            client_id=client_id,
            provider_id=provider_id,
            currency=currency,
            reference__startswith=AUTO_INVOICE_PREFIX,
            issued_at__gte=now - timedelta(days=max(window, 1)),
        )
        if recent.exists():
            return None
        services = load_autopay_data(rules, {client_id}, PriceBook())[0]
        renewals = renewals_in_order(rules, services).get(key, [])
        lines = uncovered(renewals, wallet.available_minor)
        if not lines:
            return None
        labels = service_labels({r.service_id for r in lines})
        return issue_due_invoice(
            provider=Provider.objects.get(pk=provider_id),
            client=Client.objects.get(pk=client_id),
            payer=billing_payer(client_id),
            currency=currency,
            lines=[
                payment_line(
                    gettext("Renewal of %(service)s, %(period)s")
                    % {
                        "service": labels.get(r.service_id, f"#{r.service_id}"),
                        "period": period_text(r.period_from, r.period_to),
                    },
                    r.amount_minor,
                )
                for r in lines
            ],
            due_on=None,
            reference=auto_reference(key, rules.date),
            actor=AUTO_INVOICE_ACTOR,
            now=now,
        )
