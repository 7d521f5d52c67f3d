"""The EU's VIES check of a VAT number, as a ``BILLOW["VAT_VERIFIER"]`` for
``billow.invoicing.vat`` (off unless set: ``"billow.invoicing.vies.check_vies"``).

One GET to the VIES REST API with a short timeout; any failure (network, a member state's
service down, an unexpected answer) is "don't know" (None), so a run never stops on it and the
number is then trusted on its format and checksum."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from django.conf import settings

logger = logging.getLogger("billow.invoicing")

VIES_URL = "https://ec.europa.eu/taxation_customs/vies/rest-api/ms/{country}/vat/{number}"
TIMEOUT_SECONDS = 5.0


def check_vies(country: str, number: str) -> bool | None:
    """Whether VIES says ``number`` (normalized, with its prefix) is a valid VAT number of
    ``country``; None when it could not answer."""
    prefix = "EL" if country.upper() == "GR" else country.upper()
    local = number[2:] if number[:2].upper() == prefix else number
    url = getattr(settings, "BILLOW", {}).get("VIES_URL", VIES_URL)
    try:
        with urllib.request.urlopen(  # noqa: S310 (a fixed https URL)
            url.format(country=prefix, number=local), timeout=TIMEOUT_SECONDS
        ) as response:
            answer = json.loads(response.read().decode())
    except (urllib.error.URLError, TimeoutError, OSError, ValueError):
        logger.warning("VIES did not answer for %s", number)
        return None
    valid = answer.get("isValid") if isinstance(answer, dict) else None
    return valid if isinstance(valid, bool) else None
