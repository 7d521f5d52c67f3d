"""Reads for the client area's bonus pages and the checkout's points (``marketing.bonus``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _

from billow.accounts.models import Client
from billow.accounts.selectors import get_client_scope
from billow.core import clock
from billow.marketing.bonus.models import BonusMovement
from billow.marketing.bonus.rules import plan_redemption
from billow.marketing.bonus.selectors import (
    AccountStatus,
    get_account_status,
    list_client_provider_ids_with_program,
    list_history,
)
from billow.orders.quote import Quote


@dataclass(frozen=True, slots=True)
class HistoryRow:
    movement: BonusMovement
    source: str  # what caused it, in the reader's language


@dataclass(frozen=True, slots=True)
class BonusSection:
    """One provider's program as a client sees it."""

    status: AccountStatus
    bonus_name: str
    history: Sequence[HistoryRow]


def source_label(m: BonusMovement) -> str:
    """What caused a movement, rendered at read time from its structured ``source``."""
    head, _sep, tail = m.source.partition(":")
    first = tail.split(":", 1)[0]
    if m.kind == "welcome":
        return _("Welcome bonus")
    if head == "order":
        return _("Order #%(id)s") % {"id": first}
    if head in ("charge", "hour"):
        return _("Service #%(id)s") % {"id": first}
    if head == "payment":
        return _("Top-up #%(id)s") % {"id": first}
    if head == "lot":
        return _("Due on %(day)s") % {"day": m.details.get("expires_on", "")}
    if head == "adjust":
        return _("Refund for service #%(id)s") % {"id": first}
    if head == "staff_credit":
        return _("Credit by staff")
    if head == "manual":
        return _("Manual accrual by the rules")
    if m.source == "staff":
        return _("By staff: %(reason)s") % {"reason": m.reason}
    return m.source


def list_bonus_sections(client: Client, *, history_limit: int = 50) -> list[BonusSection]:
    today = clock.today()
    language = translation.get_language() or "en"
    out = []
    provider_ids = list_client_provider_ids_with_program(get_client_scope(client).provider_ids)
    for provider_id in sorted(provider_ids):
        status = get_account_status(provider_id, client.pk, today)
        if status is None:
            continue
        history = (
            [
                HistoryRow(m, source_label(m))
                for m in list_history(status.account, limit=history_limit)
            ]
            if status.account is not None
            else []
        )
        name = status.program.icon or status.program.bonus_name(language[:2])
        out.append(BonusSection(status, name, history))
    return out


@dataclass(frozen=True, slots=True)
class CheckoutBonus:
    """The checkout's points: the balance, the most that may pay this order, what is asked
    and what the order earns."""

    bonus_name: str
    balance_points: int
    max_points: int
    used_points: int
    earn_points: int
    consent_needed: bool


def get_checkout_bonus(client: Client, provider_id: int, quote: Quote) -> CheckoutBonus | None:
    status = get_account_status(provider_id, client.pk, clock.today())
    if status is None or not status.running:
        return None
    value = status.values.get(quote.currency)
    spendable = (
        status.account is not None
        and status.account.status == "active"
        and not status.consent_needed
    )
    plan = plan_redemption(
        total_minor=quote.total.amount_minor,
        balance_points=status.balance_points if spendable else 0,
        requested_points=None,
        minor_per_point=value,
        max_share_percent=Decimal(status.program.max_share_percent),
    )
    language = (translation.get_language() or "en")[:2]
    return CheckoutBonus(
        bonus_name=status.program.icon or status.program.bonus_name(language),
        balance_points=status.balance_points,
        max_points=plan.points,
        used_points=quote.bonus_points,
        earn_points=quote.earn_points,
        consent_needed=status.consent_needed,
    )
