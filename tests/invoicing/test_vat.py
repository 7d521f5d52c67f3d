"""EU VAT numbers (python-stdnum: format and checksum) and when the reverse charge applies."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from billow.accounts.models import Client, Payer, PayerKind, Provider
from billow.invoicing import vat
from billow.invoicing.models import ProviderTaxProfile

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("number", "country", "normalized"),
    [
        ("FR 40 303 265 045", "", "FR40303265045"),
        ("40303265045", "FR", "FR40303265045"),  # the payer's country as the prefix
        ("DE136695976", "", "DE136695976"),
        ("FR40303265046", "", ""),  # checksum
        ("XX123", "", ""),
        ("", "DE", ""),
    ],
)
def test_vat_numbers_are_checked_by_format_and_checksum(
    number: str, country: str, normalized: str
) -> None:
    assert vat.normalize_vat_number(number, country) == normalized


def _payer(kind: str = PayerKind.COMPANY, tax_id: str = "FR40303265045") -> Payer:
    client = Client.objects.create(name="C", email="c@example.com", country="FR")
    return Payer.objects.create(client=client, kind=kind, name="ACME", tax_id=tax_id, country="FR")


def _provider(country: str = "DE") -> Provider:
    provider = Provider.objects.create(name=f"P{country}", code=f"p{country.lower()}")
    ProviderTaxProfile.objects.create(provider=provider, country=country)
    return provider


def test_reverse_charge_for_a_business_in_another_member_state() -> None:
    provider = _provider("DE")
    assert vat.reverse_charge_applies(provider.pk, _payer())
    assert vat.reverse_charge_applies(provider.pk, _payer(kind=PayerKind.SOLE_PROPRIETOR))


@pytest.mark.parametrize(
    ("provider_country", "kind", "tax_id"),
    [
        ("FR", PayerKind.COMPANY, "FR40303265045"),  # same member state: domestic VAT
        ("DE", PayerKind.INDIVIDUAL, "FR40303265045"),  # a consumer
        ("DE", PayerKind.COMPANY, "FR40303265046"),  # invalid checksum
        ("DE", PayerKind.COMPANY, ""),
        ("US", PayerKind.COMPANY, "FR40303265045"),  # the provider is not in the EU
    ],
)
def test_no_reverse_charge(provider_country: str, kind: str, tax_id: str) -> None:
    provider = _provider(provider_country)
    assert not vat.reverse_charge_applies(provider.pk, _payer(kind=kind, tax_id=tax_id))


def test_no_reverse_charge_without_a_provider_tax_profile() -> None:
    provider = Provider.objects.create(name="P", code="p")
    assert not vat.reverse_charge_applies(provider.pk, _payer())


def says(answer: bool | None) -> Any:
    def verify(country: str, number: str) -> bool | None:
        calls.append((country, number))
        return answer

    calls: list[tuple[str, str]] = []
    verify.calls = calls  # type: ignore[attr-defined]
    return verify


VERIFIERS: dict[str, Any] = {}


def _verifier(country: str, number: str) -> bool | None:
    result: bool | None = VERIFIERS["current"](country, number)
    return result


@pytest.mark.parametrize(("answer", "applies"), [(True, True), (False, False), (None, True)])
def test_the_online_verifier_is_pluggable(answer: bool | None, applies: bool) -> None:
    # given a verifier that says yes, no or "don't know" (then the format check decides)
    VERIFIERS["current"] = says(answer)
    vat._remembered.cache_clear()
    provider = _provider("DE")
    with override_settings(BILLOW={"VAT_VERIFIER": f"{__name__}._verifier"}):
        assert vat.reverse_charge_applies(provider.pk, _payer()) is applies
        assert vat.reverse_charge_applies(provider.pk, _payer()) is applies
    # and it was asked once for the number (answers are remembered)
    assert VERIFIERS["current"].calls == [("FR", "FR40303265045")]


def test_the_seller_block_names_the_vat_registration_when_the_provider_row_has_none() -> None:
    from billow.invoicing.actions import provider_snapshot

    # given a provider registered for VAT in Germany, with no VAT id in its seller fields
    provider = Provider.objects.create(name="Hoster", code="hoster")
    ProviderTaxProfile.objects.create(provider=provider, country="DE", vat_number="DE811907980")
    # then its documents' seller block names that registration
    block = provider_snapshot(provider)
    assert (block["country"], block["tax_id"]) == ("DE", "DE811907980")
    # and seller fields filled on the provider win
    Provider.objects.filter(pk=provider.pk).update(country="AT", tax_id="ATU13585627")
    provider.refresh_from_db()
    block = provider_snapshot(provider)
    assert (block["country"], block["tax_id"]) == ("AT", "ATU13585627")
