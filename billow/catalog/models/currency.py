"""Currencies and dated exchange rates (reference §1.6)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from billow.core.errors import BillowError
from billow.core.money import exponent

from .. import validators as v


def _currency_code_validator(value: str) -> None:
    try:
        v.validate_currency_code(value)
    except BillowError as exc:
        raise DjangoValidationError(exc.message, code=exc.code) from exc


class Currency(models.Model):
    """A currency Billow may price and bill in.

    The code must be in ``billow.core.money.CURRENCY_EXPONENTS``; the minor-unit exponent is read
    from that table (never stored twice).
    """

    code = models.CharField(
        _("code"), max_length=3, primary_key=True, validators=[_currency_code_validator]
    )
    name = models.CharField(_("name"), max_length=100)
    symbol = models.CharField(_("symbol"), max_length=8, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")

    def __str__(self) -> str:
        return self.code

    @property
    def exponent(self) -> int:
        return exponent(self.code)


class ExchangeRate(models.Model):
    """``1 base = rate quote`` from ``valid_from`` until the next dated rate of the same pair.

    A rate with a ``client_group`` overrides the general rate (``client_group`` null) for members
    of that group. Conversion lives in ``billow.catalog.rates``.
    """

    base = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+", verbose_name=_("base currency")
    )
    quote = models.ForeignKey(
        Currency, on_delete=models.PROTECT, related_name="+", verbose_name=_("quote currency")
    )
    valid_from = models.DateField(_("valid from"))
    rate = models.DecimalField(
        _("rate"),
        max_digits=v.RATE_MAX_DIGITS,
        decimal_places=v.RATE_DECIMAL_PLACES,
        help_text=_("How many units of the quote currency one unit of the base currency buys."),
    )
    client_group = models.ForeignKey(
        "accounts.ClientGroup",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="exchange_rates",
        verbose_name=_("client group"),
        help_text=_("Empty: the general rate. Set: an override for members of this group."),
    )

    class Meta:
        ordering = ["base", "quote", "-valid_from"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.CheckConstraint(condition=Q(rate__gt=0), name="catalog_rate_positive"),
            models.CheckConstraint(
                condition=~Q(base=F("quote")), name="catalog_rate_two_currencies"
            ),
            models.UniqueConstraint(
                fields=["base", "quote", "valid_from"],
                condition=Q(client_group__isnull=True),
                name="catalog_rate_unique_general",
            ),
            models.UniqueConstraint(
                fields=["base", "quote", "valid_from", "client_group"],
                condition=Q(client_group__isnull=False),
                name="catalog_rate_unique_group",
            ),
        ]
        indexes = [models.Index(fields=["base", "quote", "valid_from"])]

    def __str__(self) -> str:
        group = f" [{self.client_group}]" if self.client_group_id else ""
        return f"1 {self.base_id} = {self.rate} {self.quote_id} from {self.valid_from}{group}"

    def clean(self) -> None:
        if self.rate is not None:
            with v.as_django_errors("rate"):
                v.validate_decimal(self.rate, field="rate", positive=True)
        if self.base_id and self.base_id == self.quote_id:
            raise DjangoValidationError(
                {"quote": _("Base and quote currencies must differ.")}, code="same_currency_rate"
            )
