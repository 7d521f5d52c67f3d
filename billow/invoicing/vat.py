"""EU VAT numbers and the reverse charge (EU B2B).

A payer that is a business (company or sole proprietor) with a VAT number that is well formed
and passes its checksum (python-stdnum) in another EU member state than the provider's VAT
registration (``ProviderTaxProfile``) is charged no VAT: the invoice says "Reverse charge".

An online check (VIES) is pluggable: ``BILLOW["VAT_VERIFIER"]`` names a callable
``(country, number) -> bool | None`` (None: the service could not answer, the number is then
trusted on its format). Off unless set (and off in tests); its answers are remembered per
process, so a billing run asks once per number.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from billow.accounts.models import Payer, PayerKind
from billow.catalog import cache as catalog_cache
from billow.invoicing.models import ProviderTaxProfile

BUSINESS_KINDS = frozenset({PayerKind.COMPANY, PayerKind.SOLE_PROPRIETOR})


def normalize_vat_number(number: str, country: str = "") -> str:
    """``number`` compacted with its member-state prefix (``country``'s when it has none;
    Greece is ``EL``), or "" when it is not a valid EU VAT number (format and checksum)."""
    compact = "".join(c for c in (number or "").upper() if c.isalnum())
    if not compact[:2].isalpha():
        compact = ("EL" if country.upper() == "GR" else country.upper()) + compact
    try:
        return str(eu_vat.validate(compact))
    except ValidationError:  # unknown prefix, format or checksum
        return ""


def vat_country(number: str) -> str:
    """The ISO country of a normalized VAT number (``EL`` is Greece, ``GR``)."""
    prefix = number[:2].upper()
    return "GR" if prefix == "EL" else prefix


def is_eu_country(country: str) -> bool:
    code = "el" if country.upper() == "GR" else country.lower()
    return code in eu_vat.MEMBER_STATES


def reverse_charge_applies(provider_id: int, payer: Payer) -> bool:
    """Whether ``payer`` buys from ``provider_id`` under the EU reverse charge."""
    if payer.kind not in BUSINESS_KINDS or not payer.tax_id:
        return False
    home = provider_vat_country(provider_id)
    if not home or not is_eu_country(home):
        return False
    number = normalize_vat_number(payer.tax_id, payer.legal_country or payer.country)
    if not number:
        return False
    country = vat_country(number)
    if not is_eu_country(country) or country == home.upper():
        return False
    return verify_vat_number(country, number) is not False


def provider_vat_country(provider_id: int) -> str:
    """The provider's VAT registration country when it applies the reverse charge, else ""."""

    def load() -> str:
        row = (
            ProviderTaxProfile.objects.filter(provider_id=provider_id, eu_reverse_charge=True)
            .values_list("country", flat=True)
            .first()
        )
        return row or ""

    return str(catalog_cache.cached(("tax_profile", provider_id), load))


def provider_vat_registration(provider_id: int) -> tuple[str, str]:
    """(country, VAT number) of the provider's VAT registration ("" when it has none), cached
    per process like ``provider_vat_country``: the seller block falls back to it."""

    def load() -> tuple[str, str]:
        row = (
            ProviderTaxProfile.objects.filter(provider_id=provider_id)
            .values_list("country", "vat_number")
            .first()
        )
        return (row[0], row[1]) if row else ("", "")

    country, number = catalog_cache.cached(("tax_registration", provider_id), load)
    return str(country), str(number)


def verify_vat_number(country: str, number: str) -> bool | None:
    """The configured online verifier's answer (None when none is configured)."""
    verifier = _verifier()
    if verifier is None:
        return None
    return _remembered(verifier, country, number)


def _verifier() -> Callable[[str, str], bool | None] | None:
    path = getattr(settings, "BILLOW", {}).get("VAT_VERIFIER", "")
    return import_string(path) if path else None


@functools.lru_cache(maxsize=10_000)
def _remembered(verifier: Any, country: str, number: str) -> bool | None:
    answer: bool | None = verifier(country, number)
    return answer
