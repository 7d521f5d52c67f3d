"""The referral program: the partner's view (client) and programs, rules, referrals, rewards
and payouts (staff)."""

from __future__ import annotations

from rest_framework import serializers

from billow.api.fields import CURRENCY_PATTERN, MoneyField
from billow.core.money import MAX_MINOR

ID = {"min_value": 1, "max_value": 2**62}


class ReferralRowOut(serializers.Serializer):
    id = serializers.IntegerField()
    client_id = serializers.IntegerField()
    joined_at = serializers.DateTimeField()
    source = serializers.CharField()
    source_detail = serializers.CharField()
    first_purchase = serializers.DateTimeField(allow_null=True)
    last_purchase = serializers.DateTimeField(allow_null=True)
    total_charges = MoneyField(amount="total_charges_minor")
    paid = MoneyField(amount="paid_minor", help_text="Actually paid out (not awaiting staff).")
    rule_ids = serializers.ListField(child=serializers.IntegerField())
    unlinked_at = serializers.DateTimeField(allow_null=True)


class MonthOut(serializers.Serializer):
    month = serializers.DateField()
    accrued = MoneyField(amount="accrued_minor")
    paid = MoneyField(amount="paid_minor")
    awaiting = MoneyField(amount="awaiting_minor")


class PartnerOut(serializers.Serializer):
    partner_id = serializers.IntegerField()
    program_id = serializers.IntegerField()
    program = serializers.CharField()
    link = serializers.CharField(help_text="<website URL>?from=<partner id>")
    promo_code = serializers.CharField(help_text="Works on a new client's first order only.")
    clicks = serializers.IntegerField()
    unpaid = MoneyField(amount="unpaid_minor")
    referrals = ReferralRowOut(many=True)
    months = MonthOut(many=True)


class JoinIn(serializers.Serializer):
    program_id = serializers.IntegerField(**ID)


class ReferralProgramOut(serializers.Serializer):
    id = serializers.IntegerField()
    provider_id = serializers.IntegerField()
    name = serializers.CharField()
    currency = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True)
    website_url = serializers.CharField()
    promo_code_template = serializers.CharField()
    referral_discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    assign_automatically = serializers.BooleanField()
    referral_period_months = serializers.IntegerField(allow_null=True)
    bank_payout_threshold_minor = serializers.IntegerField(allow_null=True)
    is_active = serializers.BooleanField()


class ReferralProgramIn(serializers.Serializer):
    provider_id = serializers.IntegerField(**ID)
    name = serializers.CharField(max_length=200)
    currency = serializers.RegexField(CURRENCY_PATTERN)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)
    website_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=200)
    promo_code_template = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=48
    )
    referral_discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, default=0
    )
    assign_automatically = serializers.BooleanField(required=False, default=False)
    referral_period_months = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=1200
    )
    bank_payout_threshold_minor = serializers.IntegerField(
        required=False, allow_null=True, min_value=0
    )


class ReferralRuleIn(serializers.Serializer):
    program_id = serializers.IntegerField(**ID)
    accrual_type = serializers.ChoiceField(["fixed", "percent"])
    percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, default=0)
    amount_minor = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=MAX_MINOR
    )
    moment = serializers.ChoiceField(["on_charge", "on_payment", "days_after"], default="on_charge")
    moment_days = serializers.IntegerField(required=False, default=0, min_value=0, max_value=3650)
    frequency = serializers.ChoiceField(["every", "first_n", "once"], default="every")
    frequency_count = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=32767
    )
    condition = serializers.ChoiceField(["always", "turnover"], default="always")
    turnover_minor = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=MAX_MINOR
    )
    turnover_days = serializers.IntegerField(
        required=False, default=30, min_value=1, max_value=3650
    )


class ReferralRuleOut(serializers.Serializer):
    id = serializers.IntegerField()
    program_id = serializers.IntegerField()
    accrual_type = serializers.CharField()
    percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    amount_minor = serializers.IntegerField()
    moment = serializers.CharField()
    moment_days = serializers.IntegerField()
    frequency = serializers.CharField()
    frequency_count = serializers.IntegerField()
    condition = serializers.CharField()
    turnover_minor = serializers.IntegerField()
    turnover_days = serializers.IntegerField()
    is_active = serializers.BooleanField()


class ReferralFilter(serializers.Serializer):
    program_id = serializers.IntegerField(required=False, **ID)
    partner_id = serializers.IntegerField(required=False, **ID)


class LinkIn(serializers.Serializer):
    client_id = serializers.IntegerField(**ID)
    partner_id = serializers.IntegerField(**ID)
    reason = serializers.CharField()


class UnlinkIn(serializers.Serializer):
    client_id = serializers.IntegerField(**ID)
    reason = serializers.CharField()


class RewardOut(serializers.Serializer):
    id = serializers.IntegerField()
    partner_id = serializers.IntegerField()
    rule_id = serializers.IntegerField()
    day = serializers.DateField()
    amount = MoneyField(amount="amount_minor")
    payout_id = serializers.IntegerField(allow_null=True)


class PayoutOut(serializers.Serializer):
    id = serializers.IntegerField()
    partner_id = serializers.IntegerField()
    month = serializers.DateField()
    amount = MoneyField(amount="amount_minor")
    method = serializers.CharField()
    status = serializers.CharField()
    decided_by = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)


class PayoutDecisionIn(serializers.Serializer):
    payout_id = serializers.IntegerField(**ID)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
