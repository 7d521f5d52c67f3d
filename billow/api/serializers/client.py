"""Input and output serializers of the client endpoints. They parse and render only; every
rule lives in the actions the views call."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from billow.accounts.models import (
    ClientPermission,
    DocumentDelivery,
    InvoiceGeneration,
    PayerKind,
)
from billow.api.fields import (
    AddonValuesField,
    MoneyField,
    currency_field,
    period_field,
)
from billow.api.scopes import SCOPES
from billow.services.states import ServiceStatus

PERMISSIONS = ClientPermission.values
TEXT = {"max_length": 200, "allow_blank": True, "required": False}


# --- profile, balances, statement ---------------------------------------------------------------


class MeOut(serializers.Serializer):
    user_id = serializers.IntegerField()
    email = serializers.EmailField()
    client_id = serializers.IntegerField()
    client_name = serializers.CharField()
    language = serializers.CharField()
    country = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    is_owner = serializers.BooleanField()
    permissions = serializers.ListField(child=serializers.ChoiceField(choices=PERMISSIONS))
    unread_notifications = serializers.IntegerField(min_value=0)


class BalanceOut(serializers.Serializer):
    account_id = serializers.IntegerField(source="pk")
    provider_id = serializers.IntegerField(allow_null=True)
    balance = MoneyField(amount="balance_minor")


class StatementLineOut(serializers.Serializer):
    """One statement row (``billow.ledger.statement.StatementLine``): ``description`` says what
    happened in the request's language; ``balance`` is the client's balance in the currency
    (all providers together) right after the row; ``memo`` is the text stored at posting."""

    id = serializers.IntegerField()
    transaction_id = serializers.IntegerField()
    kind = serializers.CharField()
    description = serializers.CharField()
    memo = serializers.CharField(allow_blank=True)
    amount = MoneyField(amount="amount_minor")
    balance = MoneyField(amount="balance_minor")
    created_at = serializers.DateTimeField()


class StatementFilter(serializers.Serializer):
    currency = currency_field(required=False)
    kind = serializers.RegexField(r"^[a-z_]{1,50}$", required=False)
    date_from = serializers.DateField(
        required=False, help_text="First day (UTC), inclusive: YYYY-MM-DD."
    )
    date_to = serializers.DateField(
        required=False, help_text="Last day (UTC), inclusive: YYYY-MM-DD."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise serializers.ValidationError(
                {"date_to": ["date_to is before date_from."]}, code="invalid_date_range"
            )
        return attrs


# --- services -------------------------------------------------------------------------------


class TariffRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ServiceOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=ServiceStatus.values)
    sub_state = serializers.CharField(allow_blank=True)
    tariff = TariffRef()
    period = serializers.CharField()
    currency = serializers.CharField()
    paid_until = serializers.DateField(allow_null=True)
    paid_until_at = serializers.DateTimeField(
        allow_null=True, help_text="Hourly services: the first hour not paid yet (UTC)."
    )
    auto_renew_period = serializers.CharField(allow_blank=True)
    delete_at_period_end = serializers.BooleanField()
    addon_values = serializers.DictField()
    parameters = serializers.DictField()
    ordered_at = serializers.DateTimeField()
    opened_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        """The same output as the declared fields, built directly: the generic path costs a
        few hundred attribute lookups per row on the 50-row service list. ``instance`` is a
        ``Service`` or a ``.values(*SERVICE_OUT_VALUES)`` row (the list skips building models)."""
        if isinstance(instance, dict):
            row = instance
            tariff_id = row["tariff_id"]
            tariff = None if tariff_id is None else {"id": tariff_id, "name": row["tariff__name"]}
        else:
            row = {name: getattr(instance, name) for name in _ATTRS}
            t = instance.tariff
            tariff = None if t is None else {"id": t.id, "name": t.name}
        fields = self.fields
        status = row["status"]
        addons = row["addon_values"]
        params = row["parameters"]
        return {
            "id": None if row["id"] is None else int(row["id"]),
            "name": _str(row["name"]),
            "status": None if status is None else _STATUS.get(str(status), status),
            "sub_state": _str(row["sub_state"]),
            "tariff": None
            if tariff is None
            else {"id": int(tariff["id"]), "name": _str(tariff["name"])},
            "period": _str(row["period"]),
            "currency": _str(row["currency"]),
            "paid_until": _or_none(fields["paid_until"], row["paid_until"]),
            "paid_until_at": self._datetime("paid_until_at", row["paid_until_at"]),
            "auto_renew_period": _str(row["auto_renew_period"]),
            "delete_at_period_end": fields["delete_at_period_end"].to_representation(
                row["delete_at_period_end"]
            ),
            "addon_values": None if addons is None else {str(k): v for k, v in addons.items()},
            "parameters": None if params is None else {str(k): v for k, v in params.items()},
            "ordered_at": self._datetime("ordered_at", row["ordered_at"]),
            "opened_at": self._datetime("opened_at", row["opened_at"]),
        }

    _zone: tzinfo | None  # set on first use (per serializer instance, so per request)

    def _datetime(self, name: str, value: Any) -> Any:
        """``DateTimeField.to_representation`` with the zone looked up once per serializer (the
        lookup is most of its cost); anything unusual goes through the field itself."""
        field = self.fields[name]
        if value is None:
            return None
        if not (isinstance(value, datetime) and timezone.is_aware(value)) or (
            getattr(field, "format", api_settings.DATETIME_FORMAT) != ISO_8601
        ):
            return field.to_representation(value)
        try:
            zone = self._zone
        except AttributeError:
            zone = self._zone = getattr(field, "timezone", None) or field.default_timezone()
        text = (value.astimezone(zone) if zone is not None else value).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text


_ATTRS = (
    "id",
    "name",
    "status",
    "sub_state",
    "period",
    "currency",
    "paid_until",
    "paid_until_at",
    "auto_renew_period",
    "delete_at_period_end",
    "addon_values",
    "parameters",
    "ordered_at",
    "opened_at",
)
#: What a list passes to ``.values()`` so ``ServiceOut`` can render rows without models.
SERVICE_OUT_VALUES = (*_ATTRS, "tariff_id", "tariff__name")


_STATUS = {str(v): v for v in ServiceStatus.values}


def _or_none(field: serializers.Field, value: Any) -> Any:
    return None if value is None else field.to_representation(value)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


class ServiceFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=ServiceStatus.values, required=False)


class ServiceEventOut(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    from_status = serializers.CharField(allow_blank=True)
    to_status = serializers.CharField(allow_blank=True)
    actor_kind = serializers.CharField()
    data = serializers.DictField()
    created_at = serializers.DateTimeField()


class ServiceCreateIn(serializers.Serializer):
    tariff_id = serializers.IntegerField(min_value=1, max_value=2**62)
    period = period_field()
    currency = currency_field()
    addon_values = AddonValuesField(required=False, default=dict)
    parameters = serializers.DictField(
        child=serializers.CharField(max_length=100), required=False, default=dict
    )
    auto_renew_period = serializers.ChoiceField(
        choices=["", *period_field().choices], required=False, default=""
    )
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class RenewIn(serializers.Serializer):
    period = period_field(required=False)


class AutoRenewIn(serializers.Serializer):
    enabled = serializers.BooleanField()
    period = period_field(required=False, help_text="Default: the service's period.")


class DeleteIn(serializers.Serializer):
    when = serializers.ChoiceField(choices=["now", "period_end"], required=False)
    refund = serializers.BooleanField(required=False, default=False)


class ChangeTariffIn(serializers.Serializer):
    tariff_id = serializers.IntegerField(min_value=1, max_value=2**62)
    addon_values = AddonValuesField(required=False)


class ChangeAddonsIn(serializers.Serializer):
    addon_values = AddonValuesField()


class PreviewIn(serializers.Serializer):
    tariff_id = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    addon_values = AddonValuesField(required=False)


class ExpenseOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    reason = serializers.CharField()
    period_from = serializers.DateField()
    period_to = serializers.DateField()
    amount = MoneyField(amount="amount_minor")


class RenewOut(serializers.Serializer):
    expense = ExpenseOut()
    service = ServiceOut()


class PriceLineOut(serializers.Serializer):
    kind = serializers.CharField()
    code = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    quantity = serializers.IntegerField()
    unit_price = MoneyField(amount="unit_price_minor")
    amount = MoneyField(amount="amount_minor")


class PreviewOut(serializers.Serializer):
    tariff_id = serializers.IntegerField()
    period = serializers.CharField()
    addon_values = serializers.DictField()
    lines = PriceLineOut(many=True)
    current_price = MoneyField(amount="current_minor")
    new_price = MoneyField(amount="new_minor")
    difference = MoneyField(amount="difference_minor")
    charge_now = MoneyField(amount="charge_now_minor")
    credit_now = MoneyField(amount="credit_now_minor")
    when = serializers.ChoiceField(choices=["now", "period_end"])
    effective_on = serializers.DateField()


# --- payers, users, notifications, tokens ----------------------------------------------------


class PayerOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PayerKind.values)
    name = serializers.CharField(allow_blank=True)
    contact_person = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    tax_id = serializers.CharField(allow_blank=True)
    country = serializers.CharField(allow_blank=True)
    city = serializers.CharField(allow_blank=True)
    address = serializers.CharField(allow_blank=True)
    legal_country = serializers.CharField(allow_blank=True)
    legal_city = serializers.CharField(allow_blank=True)
    legal_address = serializers.CharField(allow_blank=True)
    verification_state = serializers.CharField()
    is_active = serializers.BooleanField()


class PayerIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PayerKind.values)
    name = serializers.CharField(max_length=300, allow_blank=True, required=False)
    contact_person = serializers.CharField(**TEXT)
    email = serializers.EmailField(max_length=254, allow_blank=True, required=False)
    phone = serializers.CharField(max_length=40, allow_blank=True, required=False)
    tax_id = serializers.CharField(max_length=40, allow_blank=True, required=False)
    document_delivery = serializers.ChoiceField(choices=DocumentDelivery.values, required=False)
    invoice_generation = serializers.ChoiceField(choices=InvoiceGeneration.values, required=False)
    country = serializers.RegexField(r"^([A-Za-z]{2})?$", required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, allow_blank=True, required=False)
    address = serializers.CharField(max_length=300, allow_blank=True, required=False)
    legal_country = serializers.RegexField(r"^([A-Za-z]{2})?$", required=False, allow_blank=True)
    legal_city = serializers.CharField(max_length=100, allow_blank=True, required=False)
    legal_address = serializers.CharField(max_length=300, allow_blank=True, required=False)


class PayerPatchIn(PayerIn):
    kind = serializers.ChoiceField(choices=PayerKind.values, required=False)


class ClientUserOut(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField(source="user.email")
    is_owner = serializers.BooleanField()
    is_active = serializers.BooleanField()
    permissions = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()


class ClientUserIn(serializers.Serializer):
    # 150: the login (Django username) is the email; accounts does not check its length yet.
    email = serializers.EmailField(max_length=150)
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=PERMISSIONS), max_length=4, default=list
    )


class PermissionsIn(serializers.Serializer):
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=PERMISSIONS), max_length=4
    )


class NotificationOut(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationFilter(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False)


class TokenOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=list(SCOPES)))
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class TokenCreatedOut(TokenOut):
    token = serializers.CharField(help_text="The secret token; shown only once.")


class TokenIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=list(SCOPES)), min_length=1, max_length=20
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


# --- catalog --------------------------------------------------------------------------------


class TariffPriceOut(serializers.Serializer):
    period = serializers.CharField()
    price = MoneyField(amount="amount_minor", currency="currency_id")
    setup_fee = MoneyField(amount="setup_fee_minor", currency="currency_id")


class CatalogTariffOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    provider_id = serializers.IntegerField()
    product_type = serializers.CharField(source="product_type.intname")
    billing_mode = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    prices = TariffPriceOut(many=True, source="prices.all")


class CatalogFilter(serializers.Serializer):
    currency = currency_field(required=False)


# --- VM actions -------------------------------------------------------------------------------


class OperationOut(serializers.Serializer):
    id = serializers.IntegerField()
    operation = serializers.CharField()
    status = serializers.CharField()
    error_code = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class VmOut(serializers.Serializer):
    actions = serializers.ListField(child=serializers.CharField())
    note = serializers.CharField(allow_blank=True)


class VmActionIn(serializers.Serializer):
    action = serializers.ChoiceField(choices=["start", "stop", "force_stop", "reboot", "reset"])


class VmPasswordIn(serializers.Serializer):
    password = serializers.CharField(max_length=1000, trim_whitespace=False)


class VmNoteIn(serializers.Serializer):
    note = serializers.CharField(max_length=10000, allow_blank=True, trim_whitespace=False)
