"""Module-instance secrets encrypted at rest (Fernet, key derived from ``SECRET_KEY`` by HKDF).

Only :func:`set_secrets` writes ``ModuleInstance.secrets_encrypted`` and only :func:`get_secrets`
reads it back; the plain text never lands in a column, an event or the admin. Rotating
``SECRET_KEY`` makes stored secrets unreadable (``secrets_unreadable``): re-enter them.
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

from billow.services.errors import ServiceValidationError

if TYPE_CHECKING:
    from billow.services.models import ModuleInstance

_SALT = b"billow.services.module-secrets"
_INFO = b"ModuleInstance.secrets_encrypted v1"


def _fernet() -> Fernet:
    secret = str(settings.SECRET_KEY).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secrets(secrets: Mapping[str, str]) -> str:
    """A Fernet token of the JSON of ``secrets`` ("" for no secrets)."""
    if not secrets:
        return ""
    for name, value in secrets.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise ServiceValidationError("secrets are text names and values", code="invalid_secret")
    return _fernet().encrypt(json.dumps(dict(secrets), sort_keys=True).encode()).decode()


def decrypt_secrets(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        plain = _fernet().decrypt(token.encode())
    except InvalidToken:
        raise ServiceValidationError(
            "stored secrets cannot be decrypted with this SECRET_KEY", code="secrets_unreadable"
        ) from None
    data: dict[str, str] = json.loads(plain)
    return data


def set_secrets(instance: ModuleInstance, secrets: Mapping[str, str]) -> None:
    """Encrypt ``secrets`` into ``instance.secrets_encrypted`` (the caller saves)."""
    instance.secrets_encrypted = encrypt_secrets(secrets)


def get_secrets(instance: ModuleInstance) -> dict[str, str]:
    """The decrypted secrets of ``instance`` ({} when none)."""
    return decrypt_secrets(instance.secrets_encrypted)
