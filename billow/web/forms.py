"""Client-area forms: they parse input only; the views call the actions with cleaned data."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billow.accounts.models import ClientPermission, Payer
from billow.accounts.validators import PAYER_DATA_FIELDS
from billow.catalog.pricing import AddonInfo

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
