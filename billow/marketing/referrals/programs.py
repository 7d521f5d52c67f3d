"""Program and rule writes, with the change history (``ReferralEvent``) in the same transaction.

Old-style programs (BILLmanager <= 6.134: "% of a referral's expenses, added at the end of the
month") are one rule of the new kind: ``LEGACY_RULE`` (percent, on charge, every charge,
always); the rewards accrue daily and are paid on the 1st, which is the month end of the old
program. ``create_legacy_program`` builds one.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from billow.accounts.models import ClientGroup, Provider
from billow.core import clock
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.core.money import exponent
from billow.marketing.promos.actions import create_code_promotion
from billow.marketing.referrals.errors import ReferralConflictError, ReferralError
from billow.marketing.referrals.models import (
    TEMPLATE_MACRO,
    ReferralEvent,
    ReferralProgram,
    ReferralRule,
)
from billow.marketing.referrals.rules import (
    AccrualMoment,
    AccrualType,
    Condition,
    Frequency,
    RuleInfo,
)

#: The one rule an old-style "% of expenses at month end" program becomes (percent set per
#: program): every charge, on charge, always; paid on the 1st.
LEGACY_RULE = RuleInfo(
    id=0,
    accrual_type=AccrualType.PERCENT,
    moment=AccrualMoment.ON_CHARGE,
    frequency=Frequency.EVERY,
    condition=Condition.ALWAYS,
)

PROGRAM_FIELDS = (
    "name",
    "currency",
    "starts_on",
    "ends_on",
    "website_url",
    "promo_code_template",
    "referral_discount_percent",
    "assign_automatically",
    "referral_period_months",
    "bank_payout_threshold_minor",
    "is_active",
)


def record_event(
    actor: Actor | None,
    type: str,
    data: dict[str, Any],
    *,
    program_id: int | None,
    now: datetime | None = None,
) -> None:
    """One row of the change history (callers hold the transaction)."""
    ReferralEvent.objects.create(program_id=program_id, **audit_kwargs(actor, type, data, now=now))


def check_template(template: str) -> str:
    """A promo-code template: empty (no codes) or letters, digits, '-' '_' with ``@ID@``."""
    text = template.strip().upper()
    if not text:
        return ""
    if TEMPLATE_MACRO not in text:
        raise ReferralError(
            "the promo code template must contain @ID@", code="referral_template_needs_id"
        )
    rest = text.replace(TEMPLATE_MACRO, "")
    if rest and not rest.replace("-", "").replace("_", "").isalnum():
        raise ReferralError(
            "a promo code is letters, digits, '-' and '_'", code="invalid_referral_program"
        )
    return text


def check_program(fields: dict[str, Any]) -> None:
    exponent(fields["currency"])  # unknown_currency
    ends, starts = fields.get("ends_on"), fields["starts_on"]
    if ends is not None and ends < starts:
        raise ReferralError("the end date is before the start", code="invalid_referral_program")
    threshold = fields.get("bank_payout_threshold_minor")
    if threshold is not None and threshold < 0:
        raise ReferralError("the bank threshold is negative", code="invalid_referral_program")
    if fields.get("promo_code_template") and not (
        Decimal(0) < Decimal(fields.get("referral_discount_percent") or 0) <= Decimal(100)
    ):
        raise ReferralError(
            "a promo code needs the referral's discount (above 0, at most 100 %)",
            code="invalid_referral_program",
        )


def create_referral_program(
    *,
    provider: Provider,
    name: str,
    currency: str,
    starts_on: date,
    ends_on: date | None = None,
    website_url: str = "",
    promo_code_template: str = "",
    referral_discount_percent: Decimal = Decimal(0),
    assign_automatically: bool = False,
    referral_period_months: int | None = None,
    bank_payout_threshold_minor: int | None = None,
    allowed_groups: list[ClientGroup] | None = None,
    forbidden_groups: list[ClientGroup] | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> ReferralProgram:
    """A new program. Refusals: ``referral_template_needs_id``, ``invalid_referral_program``,
    ``unknown_currency``, ``referral_program_automatic_taken`` (one automatic program per
    provider); nothing is written then."""
    fields: dict[str, Any] = {
        "name": name.strip(),
        "currency": currency.upper(),
        "starts_on": starts_on,
        "ends_on": ends_on,
        "website_url": website_url.strip(),
        "promo_code_template": check_template(promo_code_template),
        "referral_discount_percent": Decimal(referral_discount_percent),
        "assign_automatically": assign_automatically,
        "referral_period_months": referral_period_months,
        "bank_payout_threshold_minor": bank_payout_threshold_minor,
    }
    if not fields["name"]:
        raise ReferralError("a program needs a name", code="invalid_referral_program")
    check_program(fields)
    moment = clock.now(now)
    try:
        with transaction.atomic():
            program = ReferralProgram.objects.create(provider=provider, created_at=moment, **fields)
            if fields["promo_code_template"]:
                program.promotion = create_code_promotion(
                    provider=provider,
                    name=fields["name"],
                    percent=fields["referral_discount_percent"],
                    actor=actor,
                )
                program.save(update_fields=["promotion"])
            program.allowed_groups.set(allowed_groups or [])
            program.forbidden_groups.set(forbidden_groups or [])
            record_event(
                actor,
                "referral.program_created",
                _snapshot(program),
                program_id=program.pk,
                now=moment,
            )
    except IntegrityError:
        raise ReferralConflictError(
            "the provider already has an automatic program",
            code="referral_program_automatic_taken",
        ) from None
    return program


def update_referral_program(
    *,
    program: ReferralProgram,
    actor: Actor | None = None,
    now: datetime | None = None,
    **changes: Any,
) -> ReferralProgram:
    """Change program fields (those of ``PROGRAM_FIELDS``); the history records old and new
    values. The template cannot be set once partners have codes from another one."""
    unknown = set(changes) - set(PROGRAM_FIELDS)
    if unknown:
        raise ReferralError(f"unknown fields {sorted(unknown)}", code="invalid_referral_program")
    if "promo_code_template" in changes:
        changes["promo_code_template"] = check_template(changes["promo_code_template"])
        if (
            changes["promo_code_template"] != program.promo_code_template
            and program.partners.filter(promo_code__isnull=False).exists()
        ):
            raise ReferralError(
                "partners already have codes from the template", code="invalid_referral_program"
            )
    before = _snapshot(program)
    merged = {**before, **changes}
    check_program(merged)
    moment = clock.now(now)
    try:
        with transaction.atomic():
            for key, value in changes.items():
                setattr(program, key, value)
            program.save(update_fields=list(changes))
            if program.promo_code_template and program.promotion_id is None:
                program.promotion = create_code_promotion(
                    provider=program.provider,
                    name=program.name,
                    percent=program.referral_discount_percent,
                    actor=actor,
                )
                program.save(update_fields=["promotion"])
            diff = {
                k: [before[k], _snapshot(program)[k]]
                for k in changes
                if before[k] != _snapshot(program)[k]
            }
            record_event(actor, "referral.program_changed", diff, program_id=program.pk, now=moment)
    except IntegrityError:
        raise ReferralConflictError(
            "the provider already has an automatic program",
            code="referral_program_automatic_taken",
        ) from None
    return program


def _snapshot(program: ReferralProgram) -> dict[str, Any]:
    out = {f: getattr(program, f) for f in PROGRAM_FIELDS}
    for key in ("starts_on", "ends_on"):
        out[key] = out[key].isoformat() if out[key] else None
    out["referral_discount_percent"] = str(out["referral_discount_percent"])
    return out


def add_referral_rule(
    *,
    program: ReferralProgram,
    accrual_type: str,
    percent: Decimal = Decimal(0),
    amount_minor: int = 0,
    moment: str = AccrualMoment.ON_CHARGE,
    moment_days: int = 0,
    frequency: str = Frequency.EVERY,
    frequency_count: int = 0,
    condition: str = Condition.ALWAYS,
    turnover_minor: int = 0,
    turnover_days: int = 30,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> ReferralRule:
    """A reward rule; ``invalid_referral_rule`` on an impossible combination."""
    info = RuleInfo(
        0,
        accrual_type,
        Decimal(percent),
        amount_minor,
        moment,
        moment_days,
        frequency,
        frequency_count,
        condition,
        turnover_minor,
        turnover_days,
    )
    check_rule(info)
    with transaction.atomic():
        rule = ReferralRule.objects.create(
            program=program,
            position=program.rules.count(),
            **{k: v for k, v in asdict(info).items() if k != "id"},
        )
        data = {k: str(v) for k, v in asdict(info).items() if k != "id"}
        record_event(
            actor, "referral.rule_added", {"rule": rule.pk, **data}, program_id=program.pk, now=now
        )
    return rule


def rule_info(rule: ReferralRule) -> RuleInfo:
    """The pure view of a rule row."""
    return RuleInfo(
        rule.pk or 0,
        rule.accrual_type,
        Decimal(rule.percent or 0),
        int(rule.amount_minor or 0),
        rule.moment,
        int(rule.moment_days or 0),
        rule.frequency,
        int(rule.frequency_count or 0),
        rule.condition,
        int(rule.turnover_minor or 0),
        int(rule.turnover_days or 0),
    )


def check_rule(r: RuleInfo) -> None:
    bad = None
    if r.accrual_type == AccrualType.PERCENT and not Decimal(0) < r.percent <= Decimal(100):
        bad = "a percent is above 0 and at most 100"
    elif r.accrual_type == AccrualType.FIXED and r.amount_minor <= 0:
        bad = "a fixed reward is a positive amount"
    elif r.accrual_type not in AccrualType.__members__.values():
        bad = "unknown accrual type"
    elif r.moment not in AccrualMoment.__members__.values():
        bad = "unknown accrual moment"
    elif r.frequency not in Frequency.__members__.values():
        bad = "unknown frequency"
    elif r.frequency == Frequency.FIRST_N and r.frequency_count <= 0:
        bad = "first N needs N"
    elif r.condition not in Condition.__members__.values():
        bad = "unknown condition"
    elif r.condition == Condition.TURNOVER and (r.turnover_minor <= 0 or r.turnover_days <= 0):
        bad = "a turnover condition needs an amount and a period"
    if bad:
        raise ReferralError(bad, code="invalid_referral_rule")


def set_rule_active(
    *, rule: ReferralRule, active: bool, actor: Actor | None = None, now: datetime | None = None
) -> ReferralRule:
    with transaction.atomic():
        rule.is_active = active
        rule.save(update_fields=["is_active"])
        record_event(
            actor,
            "referral.rule_changed",
            {"rule": rule.pk, "is_active": active},
            program_id=rule.program_id,
            now=now,
        )
    return rule


def create_legacy_program(
    *,
    provider: Provider,
    name: str,
    currency: str,
    percent: Decimal,
    starts_on: date,
    referral_period_months: int | None = None,
    assign_automatically: bool = False,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> ReferralProgram:
    """An old-style program (% of a referral's expenses, paid at month end) as the new kind:
    a program with the one ``LEGACY_RULE`` at ``percent``."""
    with transaction.atomic():
        program = create_referral_program(
            provider=provider,
            name=name,
            currency=currency,
            starts_on=starts_on,
            referral_period_months=referral_period_months,
            assign_automatically=assign_automatically,
            actor=actor,
            now=now,
        )
        add_referral_rule(
            program=program,
            accrual_type=LEGACY_RULE.accrual_type,
            percent=percent,
            moment=LEGACY_RULE.moment,
            frequency=LEGACY_RULE.frequency,
            condition=LEGACY_RULE.condition,
            actor=actor,
            now=now,
        )
    return program
