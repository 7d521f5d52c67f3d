"""Staff API input of the service operations (issue 13.3), client and payer writes and balance
adjustments. Every service operation carries the ``reason`` its audit event keeps."""

from __future__ import annotations

from rest_framework import serializers

from billow.api.fields import AddonValuesField, amount_field, currency_field, period_field

ID = {"min_value": 1, "max_value": 2**62}


def reason_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=1000, help_text="Why (kept in the service's audit event; required)."
    )


class StaffServiceCreateIn(serializers.Serializer):
    client_id = serializers.IntegerField(**ID)
    tariff_id = serializers.IntegerField(**ID)
    period = period_field()
    currency = currency_field()
    addon_values = AddonValuesField(required=False, default=dict)
    parameters = serializers.DictField(
        child=serializers.CharField(max_length=100), required=False, default=dict
    )
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    auto_renew_period = serializers.CharField(
        max_length=8, required=False, default="", allow_blank=True
    )
    paid_until = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Without charge: the first day not paid (default: today).",
    )
    charge = serializers.BooleanField(
        default=False, help_text="Charge the first period now (taxed, with its document)."
    )
    open_in_module = serializers.BooleanField(
        default=False, help_text="Queue the module's open; otherwise active at once."
    )
    reason = reason_field()


class PaidUntilIn(serializers.Serializer):
    paid_until = serializers.DateField()
    reason = reason_field()


class SpecialPriceIn(serializers.Serializer):
    amount_minor = amount_field(
        allow_null=True, help_text="Minor units of the service's currency; null clears it."
    )
    reason = reason_field()


class PlanIn(serializers.Serializer):
    tariff_id = serializers.IntegerField(required=False, allow_null=True, default=None, **ID)
    addon_values = AddonValuesField(required=False, default=dict)
    charge = serializers.BooleanField(
        default=True, help_text="Charge / credit the prorated difference as a client's change."
    )
    reason = reason_field()


class StaffRenewIn(serializers.Serializer):
    period = period_field(required=False, allow_null=True, default=None)
    charge = serializers.BooleanField(default=True)
    reason = reason_field()


class SuspendIn(serializers.Serializer):
    abuse = serializers.BooleanField(default=False, help_text="Suspended for abuse.")
    reason = reason_field()


class ReasonIn(serializers.Serializer):
    reason = reason_field()


class StaffDeleteIn(serializers.Serializer):
    when = serializers.ChoiceField(
        choices=["now", "period_end"],
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: the product type's deletion policy.",
    )
    refund = serializers.BooleanField(default=False)
    reason = reason_field()


class AttachIn(serializers.Serializer):
    external_id = serializers.CharField(max_length=200)
    module_instance_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, **ID
    )
    reason = reason_field()


class ClientCreateIn(serializers.Serializer):
    email = serializers.EmailField(max_length=150, help_text="Also the owner's login.")
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    provider_ids = serializers.ListField(
        child=serializers.IntegerField(**ID), min_length=1, max_length=20
    )
    language = serializers.CharField(max_length=10, required=False, default="en")
    country = serializers.CharField(max_length=2, required=False, default="", allow_blank=True)
    contact_person = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True
    )
    comment = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class ClientPatchIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    language = serializers.CharField(max_length=10, required=False)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    contact_person = serializers.CharField(max_length=200, required=False, allow_blank=True)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class BalanceAdjustmentIn(serializers.Serializer):
    client_id = serializers.IntegerField(**ID)
    provider_id = serializers.IntegerField(**ID)
    currency = currency_field()
    direction = serializers.ChoiceField(choices=["credit", "debit"])
    amount_minor = amount_field()
    reason = reason_field()


class BalanceAdjustmentOut(serializers.Serializer):
    transaction_id = serializers.IntegerField()
    account_id = serializers.IntegerField()
    balance_minor = serializers.IntegerField()
    currency = serializers.CharField()
