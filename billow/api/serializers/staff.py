"""Staff endpoint serializers (catalog writes go through ``billow.catalog.actions``)."""

from __future__ import annotations

from rest_framework import serializers

from billow.api.fields import MoneyField, amount_field, currency_field, period_field
from billow.api.serializers.client import TariffPriceOut
from billow.catalog.choices import (
    BillingType,
    DeletionPolicy,
    DowngradePolicy,
    EditPolicy,
    TariffStatus,
    ValueType,
)
from billow.core.periods import BILLING_MODE_CHOICES

SLUG = r"^[a-z0-9][a-z0-9_-]{0,49}$"
BIG = {"min_value": 0, "max_value": 2**62}


class ProductTypeOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    intname = serializers.CharField()
    deletion_policy = serializers.CharField()
    auto_delete_days = serializers.IntegerField()
    no_suspend_weekends = serializers.BooleanField()
    downgrade_policy = serializers.CharField()


class ProductTypeIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    intname = serializers.RegexField(SLUG, max_length=50)
    deletion_policy = serializers.ChoiceField(choices=DeletionPolicy.values, required=False)
    auto_delete_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    no_suspend_weekends = serializers.BooleanField(required=False)
    downgrade_policy = serializers.ChoiceField(choices=DowngradePolicy.values, required=False)


class StaffTariffOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    provider_id = serializers.IntegerField()
    product_type_id = serializers.IntegerField()
    status = serializers.CharField()
    billing_mode = serializers.CharField()
    prorata_day = serializers.IntegerField()
    order_limit = serializers.IntegerField(allow_null=True)
    trial_days = serializers.IntegerField()
    sort = serializers.IntegerField()
    description = serializers.CharField(allow_blank=True)
    prices = TariffPriceOut(many=True, source="prices.all")


class TariffIn(serializers.Serializer):
    provider_id = serializers.IntegerField(min_value=1, max_value=2**62)
    product_type_id = serializers.IntegerField(min_value=1, max_value=2**62)
    name = serializers.CharField(max_length=200)
    status = serializers.ChoiceField(choices=TariffStatus.values, required=False)
    billing_mode = serializers.ChoiceField(
        choices=[c for c, _ in BILLING_MODE_CHOICES], required=False
    )
    prorata_day = serializers.IntegerField(min_value=1, max_value=28, required=False)
    order_limit = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False, allow_null=True
    )
    trial_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    sort = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class TariffPatchIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    status = serializers.ChoiceField(choices=TariffStatus.values, required=False)
    order_limit = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False, allow_null=True
    )
    sort = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class TariffPriceIn(serializers.Serializer):
    period = period_field()
    currency = currency_field()
    amount_minor = amount_field()
    setup_fee_minor = amount_field(required=False, default=0)


class AddonOut(serializers.Serializer):
    id = serializers.IntegerField()
    tariff_id = serializers.IntegerField()
    name = serializers.CharField()
    intname = serializers.CharField()
    unit = serializers.CharField(allow_blank=True)
    value_type = serializers.CharField()
    billing_type = serializers.CharField()
    included = serializers.IntegerField()
    min_value = serializers.IntegerField()
    max_value = serializers.IntegerField(allow_null=True)
    step = serializers.IntegerField()
    edit_policy = serializers.CharField()
    unit_price = MoneyField(amount="unit_price_minor", currency="currency_id")


class AddonIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    intname = serializers.RegexField(SLUG, max_length=50)
    value_type = serializers.ChoiceField(choices=[ValueType.INT, ValueType.BOOL])
    billing_type = serializers.ChoiceField(choices=[BillingType.INCLUDED, BillingType.ON_ORDER])
    currency = currency_field()
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True)
    unit_price_minor = amount_field(required=False)
    included = serializers.IntegerField(required=False, **BIG)
    min_value = serializers.IntegerField(required=False, **BIG)
    max_value = serializers.IntegerField(required=False, allow_null=True, **BIG)
    step = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    edit_policy = serializers.ChoiceField(choices=EditPolicy.values, required=False)


class StaffClientOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    status = serializers.CharField()
    language = serializers.CharField()
    country = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class StaffServiceFilter(serializers.Serializer):
    client_id = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    status = serializers.CharField(max_length=24, required=False)


class LedgerAccountOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    client_id = serializers.IntegerField(allow_null=True)
    provider_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField(allow_blank=True)
    balance = MoneyField(amount="balance_minor")


class LedgerEntryOut(serializers.Serializer):
    account_id = serializers.IntegerField()
    amount = MoneyField(amount="amount_minor")


class LedgerTransactionOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    idempotency_key = serializers.CharField()
    reference_type = serializers.CharField(allow_blank=True)
    reference_id = serializers.CharField(allow_blank=True)
    memo = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    entries = LedgerEntryOut(many=True, source="entries.all")


class DiscoveryRowOut(serializers.Serializer):
    kind = serializers.CharField()
    external_id = serializers.CharField(allow_blank=True)
    name = serializers.CharField(allow_blank=True)
    state = serializers.CharField(allow_blank=True)
    service_id = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField(allow_blank=True)


class DiscoveryOut(serializers.Serializer):
    instance_id = serializers.IntegerField()
    remote_count = serializers.IntegerField()
    linked_count = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())
    rows = DiscoveryRowOut(many=True)


class AdoptIn(serializers.Serializer):
    """Make a remote object found by discovery a client's active service (no provisioning)."""

    external_id = serializers.CharField(max_length=200)
    client_id = serializers.IntegerField(min_value=1, max_value=2**62)
    tariff_id = serializers.IntegerField(min_value=1, max_value=2**62)
    period = period_field()
    currency = currency_field()
    addon_values = serializers.DictField(required=False, default=dict)
    parameters = serializers.DictField(
        child=serializers.CharField(max_length=100), required=False, default=dict
    )
    paid_until = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Where billing starts charging (default: today).",
    )
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class SystemMarkIn(serializers.Serializer):
    external_id = serializers.CharField(max_length=200)
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class SystemMarkOut(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class UnmarkIn(serializers.Serializer):
    external_id = serializers.CharField(max_length=200)


class RemovedOut(serializers.Serializer):
    removed = serializers.IntegerField()


class StaffOperationOut(serializers.Serializer):
    id = serializers.IntegerField()
    service_id = serializers.IntegerField()
    operation = serializers.CharField()
    status = serializers.CharField()
