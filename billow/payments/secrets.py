"""Payment-method secrets encrypted at rest, the same scheme as ``billow.services.secrets``.

Fernet with a key derived from ``SECRET_KEY`` by HKDF, under its own salt/info so a payment
secret can never be decrypted as a module secret (or the reverse). Only :func:`set_secrets` writes
``PaymentMethod.secrets_encrypted`` and only :func:`get_secrets` reads it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from billow.payments.errors import GatewayError

if TYPE_CHECKING:
    from billow.payments.models import PaymentMethod

_SALT = b"billow.payments.method-secrets"
_INFO = b"PaymentMethod.secrets_encrypted v1"


def _fernet() -> Fernet:
    secret = str(settings.SECRET_KEY).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secrets(secrets: Mapping[str, str]) -> str:
    """A Fernet token of the JSON of ``secrets`` ("" for none)."""
    if not secrets:
        return ""
    for name, value in secrets.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise GatewayError("secrets are text names and values", code="invalid_secret")
    return _fernet().encrypt(json.dumps(dict(secrets), sort_keys=True).encode()).decode()


def decrypt_secrets(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        plain = _fernet().decrypt(token.encode())
    except InvalidToken:
        raise GatewayError(
            "stored secrets cannot be decrypted with this SECRET_KEY", code="secrets_unreadable"
        ) from None
    data: dict[str, str] = json.loads(plain)
    return data


def set_secrets(method: PaymentMethod, secrets: Mapping[str, str]) -> None:
    """Encrypt ``secrets`` into ``method.secrets_encrypted`` (the caller saves)."""
    method.secrets_encrypted = encrypt_secrets(secrets)


def get_secrets(method: PaymentMethod) -> dict[str, str]:
    return decrypt_secrets(method.secrets_encrypted)
