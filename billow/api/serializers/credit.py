"""Credit terms, promised payments and the recommended amount to pay (client endpoints)."""

from __future__ import annotations

from rest_framework import serializers

from billow.api.fields import CURRENCY_PATTERN, MoneyField


class PromiseQuery(serializers.Serializer):
    provider_id = serializers.IntegerField(min_value=1)
    currency = serializers.RegexField(CURRENCY_PATTERN)


class PromiseOut(serializers.Serializer):
    id = serializers.IntegerField()
    amount = MoneyField(amount="amount_minor")
    taken_on = serializers.DateField()
    expires_on = serializers.DateField(help_text="The first day without the credit.")
    status = serializers.CharField()


class PromiseOfferOut(serializers.Serializer):
    """What the client may take now: ``available`` false with the refusal ``code`` (the same
    code a POST would be refused with) and ``available_on`` for ``promised_payment_too_soon``."""

    available = serializers.BooleanField()
    code = serializers.CharField(allow_blank=True)
    amount = MoneyField(amount="amount_minor")
    days = serializers.IntegerField()
    available_on = serializers.DateField(allow_null=True)
    active = PromiseOut(allow_null=True)


class RecommendationOut(serializers.Serializer):
    provider_id = serializers.IntegerField()
    amount = MoneyField(amount="amount_minor", help_text="Recommended amount to pay.")
    needed = MoneyField(amount="need_minor")
    available = MoneyField(amount="available_minor")


class CreditStateOut(serializers.Serializer):
    """Per currency the client has credit terms or unpaid invoices in: the overdue state
    (``none``, ``in_respite``, ``respite_over``, ``blocked``) and its dates."""

    currency = serializers.CharField()
    state = serializers.CharField()
    respite_ends_on = serializers.DateField(allow_null=True)
    blocks_on = serializers.DateField(allow_null=True)


class CreditOut(serializers.Serializer):
    overdue = CreditStateOut(many=True)
    recommended = RecommendationOut(many=True)
