"""Bonus reads: the program and its rules as pure-function inputs, a client's account status
and history. Without an enabled program every read here is one cheap query."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from billow.accounts.models import ClientGroupMembership
from billow.core import clock
from billow.marketing.bonus.models import (
    BonusAccount,
    BonusAccountStatus,
    BonusLot,
    BonusMovement,
    BonusPointValue,
    BonusProgram,
    BonusRule,
)
from billow.marketing.bonus.rules import (
    AmountKind,
    BonusTerms,
    Direction,
    RuleInfo,
    Scope,
    Trigger,
    manual_line,
    purchase_trigger,
)


def get_program(provider_id: int) -> BonusProgram | None:
    return BonusProgram.objects.filter(provider_id=provider_id).first()


def get_enabled_program(provider_id: int) -> BonusProgram | None:
    """The provider's program when it is switched on (one query; None otherwise)."""
    return BonusProgram.objects.filter(provider_id=provider_id, enabled=True).first()


def is_running(program: BonusProgram, on: date) -> bool:
    """Switched on and within its dates: points accrue and may be spent."""
    if not program.enabled:
        return False
    if program.starts_on is not None and on < program.starts_on:
        return False
    return program.ends_on is None or on <= program.ends_on


def list_running_provider_ids(on: date) -> list[int]:
    """Providers whose program runs on ``on`` (one query; the jobs' no-op test)."""
    return [
        p.provider_id
        for p in BonusProgram.objects.filter(enabled=True).only(
            "provider_id", "enabled", "starts_on", "ends_on"
        )
        if is_running(p, on)
    ]


def point_value(program: BonusProgram, currency: str) -> Decimal | None:
    row = BonusPointValue.objects.filter(program=program, currency=currency).first()
    return row.minor_per_point if row is not None else None


def list_rule_infos(program: BonusProgram, trigger: Trigger | None = None) -> tuple[RuleInfo, ...]:
    """The program's active rules as ``RuleInfo`` (tariff groups expanded to their tariffs)."""
    rules: QuerySet[BonusRule] = program.rules.filter(is_active=True).prefetch_related(
        "product_types", "tariffs", "tariff_groups__tariffs", "client_groups"
    )
    if trigger is not None:
        rules = rules.filter(trigger=trigger)
    return tuple(_info(r) for r in rules)


def _info(r: BonusRule) -> RuleInfo:
    tariff_ids: set[int] = set()
    if r.scope == Scope.TARIFFS:
        tariff_ids = {t.pk for t in r.tariffs.all()}
    elif r.scope == Scope.TARIFF_GROUPS:
        tariff_ids = {t.pk for g in r.tariff_groups.all() for t in g.tariffs.all()}
    return RuleInfo(
        id=r.pk,
        name=r.name,
        trigger=Trigger(r.trigger),
        direction=Direction(r.direction),
        kind=AmountKind(r.kind),
        points=r.points,
        percent=Decimal(r.percent),
        scope=Scope(r.scope),
        product_types=frozenset(p.intname for p in r.product_types.all()),
        tariff_ids=frozenset(tariff_ids),
        priority=r.priority,
        stop_after=r.stop_after,
        group_ids=frozenset(g.pk for g in r.client_groups.all()),
        min_amount_minor=r.min_amount_minor,
        min_amount_currency=r.min_amount_currency,
        nth_purchase=r.nth_purchase,
        valid_from=r.valid_from,
        valid_to=r.valid_to,
    )


def get_account(provider_id: int, client_id: int) -> BonusAccount | None:
    return BonusAccount.objects.filter(provider_id=provider_id, client_id=client_id).first()


def has_consent(program: BonusProgram, account: BonusAccount | None) -> bool:
    """The client accepted the program's current consent text (or none is needed)."""
    if not program.consent_required:
        return True
    return account is not None and account.consent_version == program.consent_version


def may_earn(program: BonusProgram, account: BonusAccount | None, on: date) -> bool:
    active = account is None or account.status == BonusAccountStatus.ACTIVE
    return is_running(program, on) and active and has_consent(program, account)


def client_group_ids(client_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    out: dict[int, set[int]] = {}
    for client_id, group_id in ClientGroupMembership.objects.filter(
        client_id__in=list(client_ids)
    ).values_list("client_id", "group_id"):
        out.setdefault(client_id, set()).add(group_id)
    return {k: frozenset(v) for k, v in out.items()}


def get_bonus_terms(
    *,
    provider_id: int,
    client_id: int,
    currency: str,
    trigger: Trigger | None,
    on: date,
    group_ids: Iterable[int] = (),
    paid_orders_before: Callable[[], int] | None = None,
    requested_points: int | None = 0,
) -> BonusTerms | None:
    """What the quote needs to show "you will earn N" and to let points pay
    (``requested_points``: 0 none, None as many as allowed); None without an enabled program
    (one query). For a purchase (``trigger`` None) ``paid_orders_before`` counts the client's
    paid orders: none makes it the first purchase, and the n-th purchase is that count + 1."""
    program = get_enabled_program(provider_id)
    if program is None:
        return None
    purchase_number = 0
    if trigger is None:
        before = paid_orders_before() if paid_orders_before is not None else 0
        trigger, purchase_number = purchase_trigger(before), before + 1
    account = get_account(provider_id, client_id)
    earn = may_earn(program, account, on)
    spend = earn and account is not None and account.balance_points > 0
    return BonusTerms(
        rules=list_rule_infos(program, trigger),
        trigger=trigger,
        on=on,
        group_ids=frozenset(group_ids),
        purchase_number=purchase_number,
        minor_per_point=point_value(program, currency),
        max_share_percent=Decimal(program.max_share_percent),
        balance_points=account.balance_points if account is not None else 0,
        requested_points=requested_points,
        can_earn=earn,
        can_spend=spend,
    )


@dataclass(frozen=True, slots=True)
class AccountStatus:
    """A client's bonus account as the client area and the API show it."""

    program: BonusProgram
    account: BonusAccount | None
    running: bool
    consent_needed: bool
    balance_points: int
    values: dict[str, Decimal]  # currency -> minor units per point
    next_expiry: date | None
    next_expiry_points: int


def get_account_status(provider_id: int, client_id: int, on: date) -> AccountStatus | None:
    program = get_program(provider_id)
    if program is None or not program.enabled:
        return None
    account = get_account(provider_id, client_id)
    expiring = None
    if account is not None:
        expiring = (
            BonusLot.objects.filter(account=account, remaining__gt=0, expires_on__isnull=False)
            .order_by("expires_on", "id")
            .first()
        )
    points = 0
    if expiring is not None:
        points = sum(
            BonusLot.objects.filter(
                account=account, remaining__gt=0, expires_on=expiring.expires_on
            ).values_list("remaining", flat=True)
        )
    return AccountStatus(
        program=program,
        account=account,
        running=is_running(program, on),
        consent_needed=not has_consent(program, account),
        balance_points=account.balance_points if account is not None else 0,
        values={v.currency: v.minor_per_point for v in program.values.all()},
        next_expiry=expiring.expires_on if expiring is not None else None,
        next_expiry_points=points,
    )


def list_history(
    account: BonusAccount, *, kinds: Iterable[str] = (), limit: int | None = None
) -> QuerySet[BonusMovement]:
    """The account's movements, newest first (accrued, spent, expired, with their source)."""
    qs = BonusMovement.objects.filter(account=account).order_by("-created_at", "-id")
    kinds = list(kinds)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs[:limit] if limit else qs


def list_client_provider_ids_with_program(client_provider_ids: Iterable[int]) -> list[int]:
    return list(
        BonusProgram.objects.filter(
            provider_id__in=list(client_provider_ids), enabled=True
        ).values_list("provider_id", flat=True)
    )


def has_redemption(reference: str) -> bool:
    """Points paid part of ``reference`` (an order)."""
    return BonusMovement.objects.filter(key=f"bonus:redeem:{reference}").exists()


def estimate_manual_points(account: BonusAccount, amount_minor: int, currency: str) -> int:
    """What applying the manual-trigger rules to ``amount_minor`` gives the client now."""
    terms = get_bonus_terms(
        provider_id=account.provider_id,
        client_id=account.client_id,
        currency=currency,
        trigger=Trigger.MANUAL,
        on=clock.today(),
        group_ids=client_group_ids([account.client_id]).get(account.client_id, frozenset()),
    )
    if terms is None:
        return 0
    return terms.earn(currency, [manual_line("preview", amount_minor)])
