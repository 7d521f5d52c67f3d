"""Staff forms: parse input only; the posting itself is ``actions.adjust_client_balance``."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
)

from billow.core.errors import BillowError
from billow.core.money import Money


class StaffAmountForm(forms.Form):
    """An amount in major units and a mandatory reason for a staff money action; ``nonce``
    makes the form post once. Subclasses add their fields (``BalanceAdjustmentForm``,
    ``billing.forms.ChargeCreditForm``)."""

    amount = forms.DecimalField(
        label=_("Amount"),
        min_value=Decimal("0"),
        max_digits=20,
        widget=UnfoldAdminDecimalFieldWidget,
        help_text=_("In major units, e.g. 12.50"),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=UnfoldAdminTextareaWidget(attrs={"rows": 3})
    )
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("nonce", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_reason(self) -> str:
        reason = str(self.cleaned_data["reason"]).strip()
        if not reason:
            raise forms.ValidationError(_("A reason is required."))
        return reason

    def clean_amount(self) -> int:
        """The amount in minor units; refuses zero and sub-minor-unit precision."""
        value: Decimal = self.cleaned_data["amount"]
        try:
            money = Money.from_decimal(value, self.currency)
        except BillowError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        if money.to_decimal() != value:
            raise forms.ValidationError(_("Too many decimal places for %s.") % self.currency)
        if money.amount_minor <= 0:
            raise forms.ValidationError(_("The amount must be positive."))
        return money.amount_minor


class BalanceAdjustmentForm(StaffAmountForm):
    """Amount in major units, direction and a mandatory reason; ``nonce`` makes it post once."""

    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[
            ("credit", _("Credit (add to balance)")),
            ("debit", _("Debit (take from balance)")),
        ],
        widget=UnfoldAdminSelectWidget,
    )
    field_order = ["amount", "direction", "reason", "nonce"]
