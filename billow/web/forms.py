"""Client-area forms: they parse input only; the views call the actions with cleaned data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from billow.accounts.models import ClientPermission, Payer
from billow.accounts.validators import PAYER_DATA_FIELDS
from billow.catalog.pricing import AddonInfo
from billow.core.money import exponent
from billow.invoicing.models import DocumentKind, InvoiceStatus
from billow.usage.chart_data import MAX_RANGE_DAYS
from billow.web.formatting import hourly_price, money

PAYER_FORM_FIELDS = [
    "kind",
    "name",
    "contact_person",
    "email",
    "phone",
    "tax_id",
    "registration_number",
    "legal_country",
    "legal_city",
    "legal_postcode",
    "legal_address",
    "country",
    "city",
    "postcode",
    "address",
    "document_delivery",
]
assert set(PAYER_FORM_FIELDS) - {"kind"} <= set(PAYER_DATA_FIELDS)


class PayerForm(forms.ModelForm):
    class Meta:
        model = Payer
        fields = PAYER_FORM_FIELDS

    def validate_unique(self) -> None:  # the action checks everything
        pass

    def _post_clean(self) -> None:  # no model.full_clean(): the action validates
        pass


class PermissionsForm(forms.Form):
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"),
        choices=ClientPermission.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class InviteForm(PermissionsForm):
    email = forms.EmailField(label=_("Email"))
    field_order = ["email", "permissions"]


class AutoRenewForm(forms.Form):
    period = forms.CharField(required=False, max_length=8)


class DeleteForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, delete this service"), required=True)


class ChangeTariffForm(forms.Form):
    tariff = forms.TypedChoiceField(label=_("New tariff"), coerce=int, choices=())

    def __init__(self, *args: Any, tariffs: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tariff"].choices = [(t.pk, t.name) for t in tariffs]  # type: ignore[attr-defined]


def addon_field(addon: AddonInfo, value: Any) -> forms.Field:
    """A form field for one editable addon, initialised with its current value."""
    label = f"{addon.name} ({addon.unit})" if addon.unit else addon.name
    if addon.value_type == "bool":
        return forms.BooleanField(label=label, required=False, initial=bool(value))
    if addon.value_type == "enum":
        choices = [(v.intname, v.name) for v in addon.enum_values]
        return forms.ChoiceField(label=label, choices=choices, initial=value)
    return forms.IntegerField(
        label=label, initial=value, min_value=addon.min_value, max_value=addon.max_value
    )


class AddonsForm(forms.Form):
    def __init__(self, *args: Any, addons: list[tuple[AddonInfo, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for addon, value in addons:
            self.fields[addon.intname] = addon_field(addon, value)


# -- money pages (top-up, one-click payment, saved methods) -----------------------------------


def to_minor(value: Decimal, currency: str) -> int:
    """Major units typed by a person to exact minor units; more decimals than the currency
    has are refused (never rounded: a payer pays exactly what they typed)."""
    minor = value.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise forms.ValidationError(
            _("%(currency)s amounts have at most %(digits)d decimals."),
            code="too_many_decimals",
            params={"currency": currency, "digits": exponent(currency)},
        )
    return int(minor)


class TopUpAmountForm(forms.Form):
    """Currency, amount and the page's nonce (the idempotency key of what the page submits)."""

    currency = forms.ChoiceField(label=_("Currency"), choices=())
    amount = forms.DecimalField(label=_("Amount"), max_digits=18)
    nonce = forms.RegexField(regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput)

    def __init__(self, *args: Any, currencies: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(c, c) for c in currencies]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("amount") is not None and data.get("currency"):
            try:
                data["amount_minor"] = to_minor(data["amount"], data["currency"])
            except forms.ValidationError as exc:
                self.add_error("amount", exc)
        return data


class TopUpForm(TopUpAmountForm):
    method = forms.TypedChoiceField(
        label=_("Payment method"), coerce=int, choices=(), widget=forms.RadioSelect
    )
    save_method = forms.BooleanField(label=_("Save this method for later payments"), required=False)

    def __init__(self, *args: Any, methods: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = [(m.pk, m.name) for m in methods]  # type: ignore[attr-defined]


class AutoPaymentForm(forms.Form):
    """The auto-payment maximum in major units; empty (or the clear button) switches it off."""

    maximum = forms.DecimalField(label=_("Auto-payment maximum"), required=False, max_digits=18)

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_maximum(self) -> int | None:
        value = self.cleaned_data.get("maximum")
        if value is None or "clear" in self.data:
            return None
        return to_minor(value, self.currency)


# -- ordering (web.views.shop) ----------------------------------------------------------------

ADDON_PREFIX = "addon_"
PARAM_PREFIX = "param_"


def order_addon_field(addon: AddonInfo, child_names: dict[str, str]) -> forms.Field:
    """A form field for an addon the client sets when ordering, at its default value."""
    label = f"{addon.name} ({addon.unit})" if addon.unit else addon.name
    if addon.billing_type == "client_choice":
        choices = [(c, child_names.get(c, c)) for c in addon.children]
        return forms.ChoiceField(label=label, choices=choices)
    if addon.value_type == "bool":
        return forms.BooleanField(label=label, required=False, initial=bool(addon.default_value))
    if addon.value_type == "enum":
        return forms.ChoiceField(
            label=label, choices=[(v.intname, v.name) for v in addon.enum_values]
        )
    help_text = _("%(n)s included") % {"n": addon.included} if addon.included else ""
    return forms.IntegerField(
        label=label,
        initial=addon.default_value,
        min_value=addon.min_value,
        max_value=addon.max_value,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": addon.step or 1}),
    )


def parameter_field(choices: list[tuple[str, str]], label: str, required: bool) -> forms.Field:
    return forms.ChoiceField(label=label, required=required, choices=[("", "—"), *choices])


class OrderItemForm(forms.Form):
    """One tariff configured for the cart: period, addon values, parameters, quick order.

    ``page`` is a ``shop_selectors.ConfigurePage``. With "configure later" ticked the
    parameters are optional (the service waits in ``configuration_required``)."""

    period = forms.ChoiceField(label=_("Period"))

    def __init__(self, *args: Any, page: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.page = page
        period = self.fields["period"]
        period.choices = [  # type: ignore[attr-defined]
            (p, _period_choice(p, label, price.amount_minor, price.currency))
            for p, label, price in page.periods
        ]
        if page.periods:
            period.initial = page.periods[0][0]
        for addon in page.addons:
            self.fields[ADDON_PREFIX + addon.intname] = order_addon_field(addon, page.child_names)
        for p in page.parameters:
            self.fields[PARAM_PREFIX + p.intname] = parameter_field(p.values, p.name, False)
        if page.parameters:
            self.fields["quick"] = forms.BooleanField(
                label=_("Configure later (quick order)"),
                required=False,
                help_text=_("Order now, choose the parameters after payment."),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("quick"):
            for p in self.page.parameters:
                if p.required and not data.get(PARAM_PREFIX + p.intname):
                    self.add_error(
                        PARAM_PREFIX + p.intname,
                        _("Choose a value, or tick “Configure later”."),
                    )
        return data

    def addon_values(self) -> dict[str, Any]:
        """The valid addon values (by internal name) among the cleaned data."""
        return {
            name.removeprefix(ADDON_PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(ADDON_PREFIX) and value is not None
        }

    def parameters(self) -> dict[str, str]:
        return {
            name.removeprefix(PARAM_PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(PARAM_PREFIX) and value
        }


class CheckoutPayForm(forms.Form):
    """The final step's hidden state (provider, payer, method, promo code)."""

    provider = forms.IntegerField(widget=forms.HiddenInput)
    payer = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    method = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    promo_code = forms.CharField(required=False, max_length=50, widget=forms.HiddenInput)
    bonus_points = forms.IntegerField(
        required=False, min_value=0, max_value=10**12, widget=forms.HiddenInput
    )


class ConfigureServiceForm(forms.Form):
    """The parameters of a quick-ordered service (``shop_selectors.ParameterChoice`` list)."""

    def __init__(self, *args: Any, parameters: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for p in parameters:
            self.fields[PARAM_PREFIX + p.intname] = parameter_field(p.values, p.name, p.required)

    def parameters(self) -> dict[str, str]:
        return {
            name.removeprefix(PARAM_PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(PARAM_PREFIX) and value
        }


class StatementFilterForm(forms.Form):
    """The statement's filters: a currency and the days from / to (inclusive, UTC)."""

    currency = forms.RegexField(r"^[A-Za-z]{3}$", required=False)
    date_from = forms.DateField(label=pgettext_lazy("period", "From"), required=False)
    date_to = forms.DateField(label=pgettext_lazy("period", "To"), required=False)

    def clean_currency(self) -> str:
        return str(self.cleaned_data.get("currency") or "").upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


class DocumentFilterForm(forms.Form):
    """The document list's filters: issued from / to (days, inclusive, UTC), status, type."""

    date_from = forms.DateField(label=pgettext_lazy("period", "From"), required=False)
    date_to = forms.DateField(label=pgettext_lazy("period", "To"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *InvoiceStatus.choices]
    )
    kind = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("All")), *DocumentKind.choices]
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


def _period_choice(period: str, label: str, amount_minor: int, currency: str) -> str:
    if period == "hour":
        return hourly_price(amount_minor, currency)
    if period == "trial":
        return label
    return f"{label} · {money(amount_minor, currency)}"


class UsageRangeForm(forms.Form):
    """A usage chart's range: day / week / month / year, or custom days (inclusive, UTC);
    ``addon`` picks one of the service's statistics addons by its internal name."""

    range = forms.ChoiceField(
        label=_("Range"),
        required=False,
        widget=forms.RadioSelect,
        choices=[
            ("day", _("Today")),
            ("week", _("Week")),
            ("month", _("Month")),
            ("year", _("Year")),
            ("custom", _("Custom")),
        ],
    )
    date_from = forms.DateField(
        label=pgettext_lazy("period", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=pgettext_lazy("period", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    addon = forms.SlugField(required=False, max_length=50)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["range"] = data.get("range") or "month"
        start, end = data.get("date_from"), data.get("date_to")
        if data["range"] == "custom":
            if not start or not end:
                self.add_error("date_from", _("Give both days of a custom range."))
            elif start > end:
                self.add_error("date_to", _("The end date is before the start date."))
            elif (end - start).days >= MAX_RANGE_DAYS:
                self.add_error(
                    "date_to",
                    _("A range can be at most %(days)s days long.") % {"days": MAX_RANGE_DAYS},
                )
        return data
