"""Staff forms: parse input only; the credit itself is ``actions.credit_charge``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminTextareaWidget

from billow.ledger.forms import StaffAmountForm


class ChargeCreditForm(StaffAmountForm):
    """The price part to give back (major units) and a mandatory reason; ``nonce`` makes the
    form post once."""

    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=UnfoldAdminTextareaWidget(attrs={"rows": 3})
    )

    def __init__(self, *args: object, currency: str, **kwargs: object) -> None:
        super().__init__(*args, currency=currency, **kwargs)
        self.fields["amount"].help_text = _(
            "The price part in major units, e.g. 12.50; the tax on it is given back too."
        )
