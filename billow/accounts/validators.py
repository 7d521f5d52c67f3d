"""Rules shared by the actions and the admin forms, so staff get the same refusals as the API.

Each ``check_*`` returns the normalized value or raises an accounts ``BillowError``; the admin
forms turn those into field errors.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from billow.accounts import errors
from billow.accounts.countries import COUNTRIES, normalize_country
from billow.accounts.models import ClientPermission, Payer, PayerKind
from billow.core.money import CURRENCY_EXPONENTS

LEGAL_ADDRESS_FIELDS = (
    "legal_country",
    "legal_region",
    "legal_postcode",
    "legal_city",
    "legal_address",
)
#: Payer fields a client or staff member may set through ``create_payer`` / ``update_payer``.
PAYER_DATA_FIELDS = (
    "kind",
    "name",
    "contact_person",
    "phone",
    "fax",
    "email",
    "tax_id",
    "registration_number",
    "document_delivery",
    "accounting_code",
    "invoice_generation",
    *LEGAL_ADDRESS_FIELDS,
    "country",
    "region",
    "postcode",
    "city",
    "address",
    "is_active",
)


def normalize_email(email: str) -> str:
    """Trimmed and lower-cased: the form used as the owner's login, so logins are case-blind."""
    return email.strip().lower()


def check_email(email: str) -> str:
    """A syntactically valid email, normalized; raises ``client_invalid``."""
    email = normalize_email(email)
    try:
        validate_email(email)
    except DjangoValidationError:
        raise errors.ClientInvalid(
            f"{email!r} is not a valid email address", fields={"email": ["invalid email"]}
        ) from None
    return email


def check_email_free(email: str) -> str:
    """The normalized email, if no Django user has it as login or email; else ``email_taken``."""
    email = check_email(email)
    users = get_user_model().objects
    if users.filter(username__iexact=email).exists() or users.filter(email__iexact=email).exists():
        raise errors.EmailTaken(f"A user with email {email} already exists", email=email)
    return email


def check_language(code: str) -> str:
    """One of ``settings.LANGUAGES``; raises ``unknown_language``."""
    if code not in {lang for lang, _name in settings.LANGUAGES}:
        raise errors.UnknownLanguage(f"Unknown language {code!r}", language=code)
    return code


def check_country(code: str, *, required: bool = False) -> str:
    """An ISO 3166-1 alpha-2 code (upper-cased) or "" when not required; ``unknown_country``."""
    code = normalize_country(code or "")
    if not code and not required:
        return ""
    if code not in COUNTRIES:
        raise errors.UnknownCountry(f"Unknown country {code!r}", country=code)
    return code


def check_currency(code: str) -> str:
    """A currency from ``billow.core.money``'s table; raises ``unknown_currency``."""
    code = (code or "").strip().upper()
    if code not in CURRENCY_EXPONENTS:
        raise errors.UnknownCurrency(f"Unknown currency {code!r}", currency=code)
    return code


def iban_checksum_valid(iban: str) -> bool:
    """ISO 13616: country letters, two check digits, up to 30 letters and digits, and the
    number read with A=10..Z=35 after moving the first four to the end is 1 modulo 97."""
    if not (15 <= len(iban) <= 34 and iban[:2].isalpha() and iban[2:4].isdigit()):
        return False
    if not iban.isascii() or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def check_permissions(permissions: Iterable[str]) -> list[str]:
    """Sorted, de-duplicated ``ClientPermission`` values; raises ``unknown_permission``."""
    perms = set(permissions)
    unknown = sorted(perms - set(ClientPermission.values))
    if unknown:
        raise errors.UnknownPermission(
            f"Unknown permission(s): {', '.join(unknown)}", permissions=unknown
        )
    return sorted(perms)


def normalize_payer(payer: Payer) -> None:
    """Trim text, upper-case countries; an individual without a name takes the contact person."""
    for field in PAYER_DATA_FIELDS:
        value = getattr(payer, field)
        if isinstance(value, str):
            setattr(payer, field, value.strip())
    payer.country = normalize_country(payer.country)
    payer.legal_country = normalize_country(payer.legal_country)
    if payer.kind == PayerKind.INDIVIDUAL and not payer.name:
        payer.name = payer.contact_person


def payer_rule_errors(payer: Payer) -> dict[str, list[str]]:
    """Kind-specific payer rules (reference §1.4) as field -> messages; empty when all hold.

    Company and sole proprietor: a name and a legal-address country. Individual: the name is the
    person's name; no legal address and no fax. Any country given must be ISO alpha-2.
    """
    found: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        found.setdefault(field, []).append(message)

    if payer.kind not in PayerKind.values:
        add("kind", f"unknown payer status {payer.kind!r}")
    elif payer.kind == PayerKind.INDIVIDUAL:
        if not payer.name:
            add("name", "an individual payer needs the person's name")
        for field in (*LEGAL_ADDRESS_FIELDS, "fax"):
            if getattr(payer, field):
                add(field, "not used for an individual payer")
    else:
        if not payer.name:
            add("name", "a company or sole proprietor needs a name")
        if not payer.legal_country:
            add("legal_country", "a company or sole proprietor needs a legal address country")
    for field in ("country", "legal_country"):
        code = getattr(payer, field)
        if code and code not in COUNTRIES and field not in found:
            add(field, f"unknown country {code!r} (ISO 3166-1 alpha-2 expected)")
    return found


def check_payer(payer: Payer) -> None:
    """Normalize ``payer`` and run the kind rules and the model's own field checks.

    Raises ``payer_invalid`` with ``details["fields"]`` = field -> messages.
    """
    normalize_payer(payer)
    found = payer_rule_errors(payer)
    try:
        payer.full_clean(exclude=["client"], validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        for field, messages in exc.message_dict.items():
            found.setdefault(field, []).extend(str(m) for m in messages)
    if found:
        raise errors.PayerInvalid(
            "Payer data is invalid: " + ", ".join(sorted(found)), fields=found
        )
