"""Auto-payment from saved payment methods, before the billing run charges (BILLmanager §1.14).

Billing decides *whether* and *how much*; the payments app decides *how*. ``payments`` already
imports ``billing`` (a paid payment resumes suspended services), so billing must not import
payments back: payments registers an :class:`AutoPayer` here from its ``AppConfig.ready()``
(the same seam as ``payments.hooks``, the other way round). Without one, auto-payment is off.

Per client balance (client, provider, currency) whose default saved method has an auto-payment
maximum, the amount needed is the sum of the renewals due from each service's ``paid_until`` up
to the notice horizon (today + ``BILLING_NOTICE_DAYS``: the window of the low-balance notice),
catch-up periods of services suspended for non-payment included. The shortfall is that need
minus balance + credit limit, raised to the payment method's minimum:

- shortfall <= maximum: charge the shortfall;
- shortfall > maximum: charge the maximum when it pays at least the first renewal the balance
  alone cannot pay (in the order the run spends), else charge nothing and notify the client
  (``autopay_failed``, reason ``above_maximum``): a charge that renews nothing would only park
  money on the balance while the service is suspended anyway.

The charge is keyed ``autopay:<client>:<currency>:<date>``, so a rerun of the run (after a
crash or on purpose) replays the payment instead of charging again; a failed charge is retried
the next day under the next day's key, up to the renewal date, like BILLmanager's daily
``warnmoney``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from billow.billing.plan import (
    MAX_CATCH_UP,
    DueService,
    Notice,
    RunRules,
)
from billow.billing.proration import next_period_end
from billow.billing.wallet.balance import Wallet, WalletKey
from billow.services.states import ServiceStatus

logger = logging.getLogger("billow.billing.autopay")

#: Statuses whose renewals an auto-payment pays for (the ones the run renews).
AUTOPAY_STATUSES = frozenset({ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED_NONPAYMENT})


# -- the seam -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AutoPayMethod:
    """A client's default saved method with auto-payment on. ``max_minor`` is the client's
    auto-payment maximum (already capped by the payment method's own maximum); ``min_minor``
    the payment method's minimum amount."""

    saved_method_id: int
    client_id: int
    provider_id: int
    currency: str
    min_minor: int
    max_minor: int

    @property
    def wallet_key(self) -> WalletKey:
        return (self.client_id, self.provider_id, self.currency)


class AutoPayStatus(StrEnum):
    PAID = "paid"  # the balance is credited
    FAILED = "failed"  # the gateway said no (or the charge was refused): notify the client
    PENDING = "pending"  # not known yet: the payments janitor resolves it; nothing to say yet


@dataclass(frozen=True, slots=True)
class AutoPayResult:
    status: AutoPayStatus
    payment_id: int | None = None
    code: str = ""


class AutoPayer(Protocol):
    """What billing needs from payments (implemented in ``billow.payments.autopay``)."""

    def methods(self, client_from: int, client_to: int | None) -> list[AutoPayMethod]:
        """The auto-payment methods of the clients in [client_from, client_to): one query."""
        ...

    def charge(
        self,
        method: AutoPayMethod,
        *,
        amount_minor: int,
        idempotency_key: str,
        reference: str,
        now: datetime,
    ) -> AutoPayResult:
        """Charge ``amount_minor`` (what the balance gets) outside any transaction; the same
        key replays the first payment. Never raises for a refused or declined charge."""
        ...


_lock = threading.Lock()
_payers: list[AutoPayer] = []


def register_auto_payer(payer: AutoPayer) -> AutoPayer:
    """Make ``payer`` the one that auto-pays (the last registered wins)."""
    with _lock:
        _payers[:] = [payer]
    return payer


def unregister_auto_payer() -> AutoPayer | None:
    """Switch auto-payment off (tests); returns the payer that was registered."""
    with _lock:
        old = _payers[0] if _payers else None
        _payers.clear()
    return old


def get_auto_payer() -> AutoPayer | None:
    return _payers[0] if _payers else None


# -- pure decisions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AutoPayDecision:
    """Charge ``amount_minor`` from ``method`` (0: skipped for ``skip_reason``)."""

    method: AutoPayMethod
    need_minor: int
    available_minor: int
    amount_minor: int
    skip_reason: str = ""

    @property
    def shortfall_minor(self) -> int:
        return self.need_minor - self.available_minor


def autopay_key(method: AutoPayMethod, day: date) -> str:
    return f"autopay:{method.client_id}:{method.currency}:{day.isoformat()}"


def renewals_ahead(rules: RunRules, s: DueService) -> list[tuple[date, int]]:
    """(period start, price) of every renewal of ``s`` from its ``paid_until`` up to the notice
    horizon: the periods the run charges today and those it will charge within the window."""
    if s.status not in AUTOPAY_STATUSES or s.delete_at_period_end:
        return []
    if s.renew_period is None or s.price_minor is None:
        return []
    horizon = rules.date + timedelta(days=rules.notice_days)
    out: list[tuple[date, int]] = []
    start = s.paid_until
    for _ in range(MAX_CATCH_UP):
        if start > horizon:
            break
        out.append((start, s.gross_minor))
        start = next_period_end(start, s.renew_period, s.billing_mode, s.anchor_day)
    return out


def spending_order(rules: RunRules, services: Iterable[DueService]) -> dict[WalletKey, list[int]]:
    """Renewal prices per wallet in the order the runs will spend the balance: today's due
    periods per service in id order (as ``plan_chunk``), then later ones by date."""
    due: dict[WalletKey, list[tuple[int, date, int]]] = {}
    later: dict[WalletKey, list[tuple[date, int, int]]] = {}
    for s in services:
        for start, price in renewals_ahead(rules, s):
            if start <= rules.date:
                due.setdefault(s.wallet_key, []).append((s.id, start, price))
            else:
                later.setdefault(s.wallet_key, []).append((start, s.id, price))
    keys = due.keys() | later.keys()
    return {
        k: [p for *_, p in sorted(due.get(k, []))] + [p for *_, p in sorted(later.get(k, []))]
        for k in keys
    }


def decide_autopay(
    method: AutoPayMethod, renewals: Sequence[int], wallet: Wallet
) -> AutoPayDecision | None:
    """The auto-payment for one wallet (None: nothing to do). See the module docstring."""
    need = sum(renewals)
    available = wallet.available_minor
    if wallet.postpaid or need <= available:
        return None
    shortfall = max(need - available, method.min_minor)
    if shortfall <= method.max_minor:
        return AutoPayDecision(method, need, available, shortfall)
    first_gap = _first_unpaid_gap(renewals, available)
    if max(first_gap, method.min_minor) <= method.max_minor:
        return AutoPayDecision(method, need, available, method.max_minor)
    return AutoPayDecision(method, need, available, 0, "above_maximum")


def _first_unpaid_gap(renewals: Sequence[int], available: int) -> int:
    """What the balance lacks for the first renewal it cannot pay, spending in order."""
    for price in renewals:
        if available < price:
            return price - available
        available -= price
    return 0


def plan_autopay(
    rules: RunRules,
    services: Iterable[DueService],
    wallets: dict[WalletKey, Wallet],
    methods: Iterable[AutoPayMethod],
) -> list[AutoPayDecision]:
    """The decisions for these clients, in client order."""
    renewals = spending_order(rules, services)
    out = []
    for method in sorted(methods, key=lambda m: (m.client_id, m.currency)):
        key = method.wallet_key
        decision = decide_autopay(method, renewals.get(key, []), wallets.get(key, Wallet(None, 0)))
        if decision is not None:
            out.append(decision)
    return out


# -- running ------------------------------------------------------------------------------------


@dataclass(slots=True)
class AutoPayReport:
    counts: Counter[str] = field(default_factory=Counter)
    notices: list[Notice] = field(default_factory=list)

    def as_report(self) -> dict[str, int]:
        return {f"autopay_{k}": self.counts[k] for k in ("paid", "failed", "pending", "skipped")}


def failure_notice(decision: AutoPayDecision, day: date, *, code: str) -> Notice:
    m = decision.method
    return Notice(
        "autopay_failed",
        m.client_id,
        m.provider_id,
        {
            "currency": m.currency,
            "amount_minor": decision.amount_minor or decision.shortfall_minor,
            "needed_minor": decision.need_minor,
            "available_minor": decision.available_minor,
            "maximum_minor": m.max_minor,
            "code": code,
        },
        f"autopay_failed:{m.client_id}:{m.currency}:{day.isoformat()}",
    )


def execute_autopay(
    payer: AutoPayer,
    decisions: Sequence[AutoPayDecision],
    *,
    day: date,
    now: datetime,
    reference: str,
) -> AutoPayReport:
    """Charge the decided amounts, one client after the other, outside any transaction."""
    report = AutoPayReport()
    for d in decisions:
        if d.skip_reason:
            report.counts["skipped"] += 1
            report.notices.append(failure_notice(d, day, code=d.skip_reason))
            continue
        result = _charge(payer, d, day=day, now=now, reference=reference)
        report.counts[result.status.value] += 1
        if result.status == AutoPayStatus.FAILED:
            report.notices.append(failure_notice(d, day, code=result.code or "declined"))
    return report


def _charge(
    payer: AutoPayer, d: AutoPayDecision, *, day: date, now: datetime, reference: str
) -> AutoPayResult:
    try:
        return payer.charge(
            d.method,
            amount_minor=d.amount_minor,
            idempotency_key=autopay_key(d.method, day),
            reference=reference,
            now=now,
        )
    except Exception:
        # One client's charge must never stop the billing of the others (the payer already
        # turns refusals and declines into results; this is a bug or an outage). The payment,
        # if one was created, stays open for the payments janitor; the client is not told a
        # failure we are not sure of.
        logger.exception("auto-payment for client %s failed", d.method.client_id)
        return AutoPayResult(AutoPayStatus.PENDING, code="error")
