"""Staff API of promotions / promo codes, tax rules and payment methods (issue 13.3).

Money is minor units (``*_minor``) as in the rest of the API; percents and rates are decimal
strings. Nothing is deleted: ``is_active: false`` deactivates (uses, documents and payments
reference these rows).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billow.api.fields import amount_field, currency_field
from billow.marketing.promos.rules import DiscountKind, DiscountTarget
from billow.payments.models import PaymentMethod

ID = {"min_value": 1, "max_value": 2**62}
LIMIT = {"required": False, "allow_null": True, "min_value": 0, "max_value": 2**31 - 1}


class _PromotionFields(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    requires_code = serializers.BooleanField(required=False)
    stackable = serializers.BooleanField(required=False)
    first_order_only = serializers.BooleanField(required=False)
    max_uses = serializers.IntegerField(**LIMIT)
    max_uses_per_client = serializers.IntegerField(**LIMIT)


class StaffPromotionIn(_PromotionFields):
    provider_id = serializers.IntegerField(**ID)
    discount_kind = serializers.ChoiceField(choices=[k.value for k in DiscountKind])
    target = serializers.ChoiceField(
        choices=[DiscountTarget.ALL.value, DiscountTarget.TARIFF.value],
        default=DiscountTarget.ALL.value,
    )
    percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    amount_minor = amount_field(required=False, help_text="Fixed discount per matching line.")
    currency = currency_field(required=False)


class StaffPromotionPatchIn(_PromotionFields):
    pass


class StaffPromotionDiscountOut(serializers.Serializer):
    target = serializers.CharField()
    kind = serializers.CharField()
    percent = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=True)
    amount_minor = serializers.IntegerField()
    currency = serializers.CharField()


class StaffPromotionOut(serializers.Serializer):
    id = serializers.IntegerField()
    provider_id = serializers.IntegerField()
    name = serializers.CharField()
    title = serializers.CharField()
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    is_active = serializers.BooleanField()
    requires_code = serializers.BooleanField()
    stackable = serializers.BooleanField()
    first_order_only = serializers.BooleanField()
    max_uses = serializers.IntegerField(allow_null=True)
    max_uses_per_client = serializers.IntegerField(allow_null=True)
    uses = serializers.IntegerField()
    discounts = StaffPromotionDiscountOut(many=True)


class StaffPromoCodeIn(serializers.Serializer):
    code = serializers.CharField(max_length=64)
    max_uses = serializers.IntegerField(**LIMIT)
    max_uses_per_client = serializers.IntegerField(**LIMIT)


class StaffPromoCodePatchIn(serializers.Serializer):
    is_active = serializers.BooleanField(required=False)
    max_uses = serializers.IntegerField(**LIMIT)
    max_uses_per_client = serializers.IntegerField(**LIMIT)


class StaffPromoCodeOut(serializers.Serializer):
    id = serializers.IntegerField()
    promotion_id = serializers.IntegerField()
    code = serializers.CharField()
    is_active = serializers.BooleanField()
    max_uses = serializers.IntegerField(allow_null=True)
    max_uses_per_client = serializers.IntegerField(allow_null=True)
    uses = serializers.IntegerField()


class _TaxRuleFields(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    rate = serializers.DecimalField(max_digits=6, decimal_places=3, help_text="Percent.")
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    product_type = serializers.CharField(max_length=50, required=False, allow_blank=True)
    included = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    client_group_id = serializers.IntegerField(required=False, allow_null=True, **ID)
    client_id = serializers.IntegerField(required=False, allow_null=True, **ID)


class StaffTaxRuleIn(_TaxRuleFields):
    provider_id = serializers.IntegerField(**ID)


class StaffTaxRulePatchIn(_TaxRuleFields):
    pass


class StaffTaxRuleOut(serializers.Serializer):
    id = serializers.IntegerField()
    provider_id = serializers.IntegerField()
    name = serializers.CharField()
    rate = serializers.DecimalField(max_digits=6, decimal_places=3, coerce_to_string=True)
    country = serializers.CharField()
    region = serializers.CharField()
    product_type = serializers.CharField()
    included = serializers.BooleanField()
    is_active = serializers.BooleanField()
    client_group_id = serializers.IntegerField(allow_null=True)
    client_id = serializers.IntegerField(allow_null=True)


class _PaymentMethodFields(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    fee_fixed_minor = amount_field(required=False)
    fee_percent = serializers.DecimalField(max_digits=7, decimal_places=4, required=False)
    min_amount_minor = amount_field(required=False)
    max_amount_minor = amount_field(required=False, allow_null=True)
    sort = serializers.IntegerField(required=False, min_value=-(2**31), max_value=2**31 - 1)
    is_active = serializers.BooleanField(required=False)
    supports_refunds = serializers.BooleanField(required=False)
    supports_recurring = serializers.BooleanField(required=False)
    config = serializers.DictField(required=False, help_text="The gateway's settings.")
    secrets = serializers.DictField(
        child=serializers.CharField(max_length=2000),
        required=False,
        help_text="Write-only; stored encrypted, never returned.",
    )
    client_group_ids = serializers.ListField(
        child=serializers.IntegerField(**ID), required=False, max_length=100
    )


class StaffPaymentMethodIn(_PaymentMethodFields):
    provider_id = serializers.IntegerField(**ID)
    gateway = serializers.CharField(max_length=50)
    currency = currency_field()


class StaffPaymentMethodPatchIn(_PaymentMethodFields):
    pass


class StaffPaymentMethodOut(serializers.Serializer):
    id = serializers.IntegerField()
    provider_id = serializers.IntegerField()
    gateway = serializers.CharField()
    name = serializers.CharField()
    currency = serializers.CharField()
    fee_fixed_minor = serializers.IntegerField()
    fee_percent = serializers.DecimalField(max_digits=7, decimal_places=4, coerce_to_string=True)
    min_amount_minor = serializers.IntegerField()
    max_amount_minor = serializers.IntegerField(allow_null=True)
    sort = serializers.IntegerField()
    is_active = serializers.BooleanField()
    supports_refunds = serializers.BooleanField()
    supports_recurring = serializers.BooleanField()
    config = serializers.DictField()
    client_group_ids = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_client_group_ids(self, method: PaymentMethod) -> list[int]:
        return sorted(group.pk for group in method.client_groups.all())
