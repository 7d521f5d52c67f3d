"""Credit terms in the billing run and after a payment: settle, then decide who is blocked.

``apply_credit_terms`` runs right after a chunk (or one client, on the resume path) locked its
wallets, before anything is charged:

1. the unpaid invoices the balance now covers are settled (``billing.overdue``), and an
   invoice ahead of renewals is settled once the balance holds its total;
2. promised payments: one still running adds its amount to the wallet's credit (and holds off
   a block); one whose day has come is closed when the balance is back within the limit, else
   it has lapsed and the wallet is blocked until it is;
3. the overdue state of each wallet with unpaid invoices; ``blocked`` wallets are suspended by
   the plan (``billing.plan``) and resumed by it once they are not.

Clients with no credit terms, promise or unpaid invoice cost two queries per chunk.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from django.db.models import Q

from billow.billing.models import (
    ClientBillingSettings,
    Expense,
    ExpenseKind,
    PromisedPayment,
    PromiseStatus,
)
from billow.billing.overdue import (
    CreditTerms,
    OpenInvoice,
    UnpaidInvoice,
    overdue_state,
    promise_lapsed,
    settled_invoices,
)
from billow.billing.ranges import client_range
from billow.billing.wallet import Wallet, WalletKey, WalletRow
from billow.invoicing.due import settle_invoices
from billow.invoicing.models import Invoice, InvoiceStatus

#: References of invoices issued ahead of renewals (``billing.auto_invoice``).
AUTO_INVOICE_PREFIX = "auto:"

ClientCurrency = tuple[int, str]


@dataclass(slots=True)
class CreditState:
    """What the plan needs: the blocked wallets (with why) and the promised credit running."""

    blocked: dict[WalletKey, str] = field(default_factory=dict)
    promised: dict[ClientCurrency, int] = field(default_factory=dict)

    @property
    def blocked_clients(self) -> set[int]:
        return {key[0] for key in self.blocked}

    def apply(self, wallets: dict[WalletKey, Wallet]) -> None:
        for key, wallet in wallets.items():
            wallet.credit_limit_minor += self.promised.get((key[0], key[2]), 0)
            wallet.blocked = key in self.blocked


@dataclass(frozen=True, slots=True)
class _Terms:
    limit: int
    terms: CreditTerms
    promised_minor: int
    promised_until: date | None


def apply_credit_terms(
    wallet_rows: list[WalletRow], lo: int, hi: int | None, *, day: date, now: datetime
) -> CreditState:
    """Settle, close promises and decide the blocked wallets of clients ``lo <= id < hi`` (the
    caller holds their wallet locks). See the module docstring."""
    balances = {(c, p, cur): int(b) for c, p, cur, _, b in wallet_rows}
    terms = _load_terms(lo, hi)
    unpaid = _settle(balances, lo, hi, now)
    state = CreditState()
    _promises(state, terms, balances, day=day, now=now)
    for key, invoices in unpaid.items():
        found = terms.get((key[0], key[2]))
        if found is None or (key[0], key[2]) in state.promised:
            continue  # no credit terms (cannot block), or a promise holds the block off
        if overdue_state(found.terms, invoices, day).blocked:
            state.blocked.setdefault(key, "overdue")
    return state


def _load_terms(lo: int, hi: int | None) -> dict[ClientCurrency, _Terms]:
    rows = client_range(
        ClientBillingSettings.objects.filter(
            Q(postpaid=True) | Q(credit_limit_minor__gt=0) | Q(promised_until__isnull=False)
        ),
        lo,
        hi,
    ).values_list(
        "client_id",
        "currency",
        "credit_limit_minor",
        "postpaid",
        "respite_unlimited",
        "respite_days",
        "block_days",
        "promised_minor",
        "promised_until",
    )
    return {
        (c, cur): _Terms(int(limit), CreditTerms(unlimited, respite, block, post), pm, pu)
        for c, cur, limit, post, unlimited, respite, block, pm, pu in rows
    }


def cutoff_of(invoice_issued: datetime) -> datetime:
    """Where an invoice's charges end: the start (UTC) of the day it was issued on."""
    return datetime.combine(invoice_issued.astimezone(UTC).date(), time(0), tzinfo=UTC)


def _settle(
    balances: dict[WalletKey, int], lo: int, hi: int | None, now: datetime
) -> dict[WalletKey, list[UnpaidInvoice]]:
    """Settle what the balances cover; the invoices with a due date left unpaid, per wallet."""
    rows = list(
        client_range(
            Invoice.objects.filter(status=InvoiceStatus.ISSUED).filter(
                Q(due_on__isnull=False) | Q(reference__startswith=AUTO_INVOICE_PREFIX)
            ),
            lo,
            hi,
        ).values_list(
            "id", "client_id", "provider_id", "currency", "issued_at", "due_on", "total_minor"
        )
    )
    if not rows:
        return {}
    due = [r for r in rows if r[5] is not None]
    moved = moved_since(
        {(r[1], r[2], r[3]) for r in due}, min((cutoff_of(r[4]) for r in due), default=now)
    )
    paid: list[int] = []
    open_by_wallet: dict[WalletKey, list[OpenInvoice]] = defaultdict(list)
    for pk, client, provider, currency, issued, due_on, total in rows:
        key = (client, provider, currency)
        if due_on is None:  # ahead of renewals: paid once the balance holds it
            if balances.get(key, 0) >= total:
                paid.append(pk)
            continue
        cutoff = cutoff_of(issued)
        since = sum(amount for at, amount in moved.get(key, ()) if at >= cutoff)
        open_by_wallet[key].append(OpenInvoice(pk, since))
    for key, invoices in open_by_wallet.items():
        paid += settled_invoices(balances.get(key, 0), invoices)
    settle_invoices(invoice_ids=paid, now=now)
    settled = set(paid)
    unpaid: dict[WalletKey, list[UnpaidInvoice]] = defaultdict(list)
    for pk, client, provider, currency, issued, due_on, _ in due:
        if pk not in settled:
            unpaid[(client, provider, currency)].append(
                UnpaidInvoice(pk, issued.astimezone(UTC).date(), due_on)
            )
    return unpaid


def moved_since(
    keys: set[WalletKey], since: datetime
) -> dict[WalletKey, list[tuple[datetime, int]]]:
    """(time, signed amount) of the expenses of ``keys`` created at or after ``since``: what
    each moved out of the wallet (a charge positive, a refund or credit negative)."""
    if not keys:
        return {}
    out: dict[WalletKey, list[tuple[datetime, int]]] = defaultdict(list)
    rows = Expense.objects.filter(
        client_id__in={k[0] for k in keys}, created_at__gte=since
    ).values_list(
        "client_id",
        "provider_id",
        "currency",
        "kind",
        "created_at",
        "amount_minor",
        "tax_added_minor",
    )
    for client, provider, currency, kind, at, amount, added in rows:
        key = (client, provider, currency)
        if key in keys:  # the wallet moves the gross: the amount and the tax added on top
            sign = 1 if kind == ExpenseKind.CHARGE else -1
            out[key].append((at, sign * (int(amount) + int(added))))
    return out


def _promises(
    state: CreditState,
    terms: dict[ClientCurrency, _Terms],
    balances: dict[WalletKey, int],
    *,
    day: date,
    now: datetime,
) -> None:
    wallets: dict[ClientCurrency, list[WalletKey]] = defaultdict(list)
    for key in balances:
        wallets[(key[0], key[2])].append(key)
    repaid: list[ClientCurrency] = []
    lapsed: list[ClientCurrency] = []
    for cc, found in terms.items():
        if found.promised_until is None:
            continue
        if day < found.promised_until:
            state.promised[cc] = found.promised_minor
            continue
        short = [
            k
            for k in wallets.get(cc, ())
            if promise_lapsed(found.promised_until, day, balances[k] + found.limit)
        ]
        for key in short:
            state.blocked[key] = "promise_lapsed"
        (lapsed if short else repaid).append(cc)
    close_promises(repaid=repaid, lapsed=lapsed, now=now)


def close_promises(
    *, repaid: list[ClientCurrency], lapsed: list[ClientCurrency], now: datetime
) -> None:
    """Promises whose day has come: repaid ones end (the settings forget them); lapsed ones
    keep the settings' date (the wallet stays blocked) until the balance is back."""
    for client_id, currency in repaid:
        ClientBillingSettings.objects.filter(client_id=client_id, currency=currency).update(
            promised_minor=0, promised_until=None, updated_at=now
        )
        _close_row(client_id, currency, PromiseStatus.REPAID, now)
    for client_id, currency in lapsed:
        ClientBillingSettings.objects.filter(
            client_id=client_id, currency=currency, promised_minor__gt=0
        ).update(promised_minor=0, updated_at=now)
        _close_row(client_id, currency, PromiseStatus.LAPSED, now)


def _close_row(client_id: int, currency: str, status: str, now: datetime) -> None:
    PromisedPayment.objects.filter(
        client_id=client_id, currency=currency, status=PromiseStatus.ACTIVE
    ).update(status=status, closed_at=now, closed_by="billing")
