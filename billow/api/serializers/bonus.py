"""The bonus program: a client's accounts, consent, history and estimates; staff programs,
rules, accounts and manual accrual / deduction."""

from __future__ import annotations

from rest_framework import serializers

from billow.api.fields import CURRENCY_PATTERN
from billow.marketing.bonus.models import MovementKind
from billow.marketing.bonus.rules import AmountKind, Direction, Scope, Trigger

ID = {"min_value": 1, "max_value": 2**63 - 1}


class PointValueOut(serializers.Serializer):
    currency = serializers.CharField()
    minor_per_point = serializers.DecimalField(max_digits=12, decimal_places=4)


class BonusProgramOut(serializers.Serializer):
    id = serializers.IntegerField()
    provider_id = serializers.IntegerField()
    enabled = serializers.BooleanField()
    name = serializers.CharField()
    bonus_names = serializers.DictField(child=serializers.CharField())
    icon = serializers.CharField(allow_blank=True)
    starts_on = serializers.DateField(allow_null=True)
    ends_on = serializers.DateField(allow_null=True)
    consent_required = serializers.BooleanField()
    consent_text = serializers.CharField(allow_blank=True)
    consent_version = serializers.CharField()
    max_share_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    expiry_months = serializers.IntegerField()
    welcome_enabled = serializers.BooleanField()
    welcome_points = serializers.IntegerField()
    values = PointValueOut(many=True, source="values.all")


class AccountStatusOut(serializers.Serializer):
    """One provider's program and the client's account with it (``account_status`` null while
    no account exists yet; ``consent_needed``: points neither accrue nor pay until the client
    accepts the current consent text)."""

    program = BonusProgramOut()
    running = serializers.BooleanField()
    account_status = serializers.CharField(allow_null=True, source="account.status", default=None)
    consent_needed = serializers.BooleanField()
    consent_version = serializers.CharField(
        allow_blank=True, source="account.consent_version", default=""
    )
    consented_at = serializers.DateTimeField(
        allow_null=True, source="account.consented_at", default=None
    )
    balance_points = serializers.IntegerField()
    next_expiry = serializers.DateField(allow_null=True)
    next_expiry_points = serializers.IntegerField()


class ProviderIn(serializers.Serializer):
    provider_id = serializers.IntegerField(**ID)


class HistoryFilter(serializers.Serializer):
    provider_id = serializers.IntegerField(required=False, **ID)
    kind = serializers.ChoiceField(choices=MovementKind.choices, required=False)


class MovementOut(serializers.Serializer):
    id = serializers.IntegerField()
    provider_id = serializers.IntegerField(source="account.provider_id")
    created_at = serializers.DateTimeField()
    kind = serializers.CharField()
    points = serializers.IntegerField()
    trigger = serializers.CharField(allow_blank=True)
    rule_id = serializers.IntegerField(allow_null=True)
    source = serializers.CharField(
        allow_blank=True, help_text="order:<id>, charge:..., payment:<id>, lot:<id>, staff"
    )
    description = serializers.CharField(allow_blank=True)
    money_minor = serializers.IntegerField(help_text="Money the points paid or got back.")
    currency = serializers.CharField(allow_blank=True)


class StaffMovementOut(MovementOut):
    client_id = serializers.IntegerField(source="account.client_id")
    reason = serializers.CharField(allow_blank=True)
    actor_kind = serializers.CharField()
    actor_id = serializers.CharField(allow_blank=True)


class EstimateQuery(serializers.Serializer):
    """``topup``: ``provider_id``, ``amount_minor`` and ``currency``; ``renewal``:
    ``service_id`` (its next renewal at its auto-renew period)."""

    trigger = serializers.ChoiceField(choices=[Trigger.TOPUP.value, Trigger.RENEWAL.value])
    provider_id = serializers.IntegerField(required=False, **ID)
    amount_minor = serializers.IntegerField(required=False, min_value=0, max_value=2**62)
    currency = serializers.RegexField(CURRENCY_PATTERN, required=False)
    service_id = serializers.IntegerField(required=False, **ID)

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if attrs["trigger"] == Trigger.TOPUP:
            missing = [k for k in ("provider_id", "amount_minor", "currency") if k not in attrs]
        else:
            missing = [] if "service_id" in attrs else ["service_id"]
        if missing:
            raise serializers.ValidationError({k: "required" for k in missing})
        return attrs


class EstimateOut(serializers.Serializer):
    earn_points = serializers.IntegerField()


class BonusRuleIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    is_active = serializers.BooleanField(default=True)
    trigger = serializers.ChoiceField(choices=[t.value for t in Trigger])
    direction = serializers.ChoiceField(choices=[d.value for d in Direction], default="accrual")
    kind = serializers.ChoiceField(choices=[k.value for k in AmountKind], default="fixed")
    points = serializers.IntegerField(min_value=0, max_value=10**9, default=0)
    percent = serializers.DecimalField(max_digits=6, decimal_places=3, min_value=0, default=0)
    scope = serializers.ChoiceField(choices=[s.value for s in Scope], default="all")
    product_type_ids = serializers.ListField(
        child=serializers.IntegerField(**ID), default=list, max_length=1000
    )
    tariff_group_ids = serializers.ListField(
        child=serializers.IntegerField(**ID), default=list, max_length=1000
    )
    tariff_ids = serializers.ListField(
        child=serializers.IntegerField(**ID), default=list, max_length=1000
    )
    client_group_ids = serializers.ListField(
        child=serializers.IntegerField(**ID), default=list, max_length=1000
    )
    priority = serializers.IntegerField(min_value=-(10**6), max_value=10**6, default=100)
    stop_after = serializers.BooleanField(default=False)
    min_amount_minor = serializers.IntegerField(min_value=0, max_value=2**62, default=0)
    min_amount_currency = serializers.CharField(max_length=3, allow_blank=True, default="")
    nth_purchase = serializers.IntegerField(
        min_value=1, max_value=10**6, allow_null=True, default=None
    )
    valid_from = serializers.DateField(allow_null=True, default=None)
    valid_to = serializers.DateField(allow_null=True, default=None)


class BonusRuleOut(serializers.Serializer):
    id = serializers.IntegerField()
    program_id = serializers.IntegerField()
    name = serializers.CharField()
    is_active = serializers.BooleanField()
    trigger = serializers.CharField()
    direction = serializers.CharField()
    kind = serializers.CharField()
    points = serializers.IntegerField()
    percent = serializers.DecimalField(max_digits=6, decimal_places=3)
    scope = serializers.CharField()
    priority = serializers.IntegerField()
    stop_after = serializers.BooleanField()
    min_amount_minor = serializers.IntegerField()
    min_amount_currency = serializers.CharField(allow_blank=True)
    nth_purchase = serializers.IntegerField(allow_null=True)
    valid_from = serializers.DateField(allow_null=True)
    valid_to = serializers.DateField(allow_null=True)


class StaffAccountFilter(serializers.Serializer):
    client_id = serializers.IntegerField(required=False, **ID)
    provider_id = serializers.IntegerField(required=False, **ID)


class StaffAccountOut(serializers.Serializer):
    id = serializers.IntegerField()
    client_id = serializers.IntegerField()
    provider_id = serializers.IntegerField()
    status = serializers.CharField()
    balance_points = serializers.IntegerField()
    consent_version = serializers.CharField(allow_blank=True)
    consented_at = serializers.DateTimeField(allow_null=True)
    consent_ip = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class AdjustIn(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["accrual", "deduction"])
    points = serializers.IntegerField(min_value=1, max_value=10**9)
    reason = serializers.CharField(max_length=1000)
