"""Payment-method secrets encrypted at rest (``billow.core.secrets``, own salt, so a payment
secret can never be decrypted as a module secret or the reverse).

Only :func:`set_secrets` writes ``PaymentMethod.secrets_encrypted`` and only :func:`get_secrets`
reads it back; the plain text never lands in a column, an event or the admin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from billow.core.secrets import SecretBox
from billow.payments.errors import GatewayError

if TYPE_CHECKING:
    from billow.payments.models import PaymentMethod

_BOX = SecretBox(
    salt=b"billow.payments.method-secrets",
    info=b"PaymentMethod.secrets_encrypted v1",
    error=GatewayError,
)


def encrypt_secrets(secrets: Mapping[str, str]) -> str:
    """A Fernet token of the JSON of ``secrets`` ("" for no secrets)."""
    return _BOX.encrypt(secrets)


def decrypt_secrets(token: str) -> dict[str, str]:
    return _BOX.decrypt(token)


def set_secrets(method: PaymentMethod, secrets: Mapping[str, str]) -> None:
    """Encrypt ``secrets`` into ``method.secrets_encrypted`` (the caller saves)."""
    method.secrets_encrypted = _BOX.encrypt(secrets)


def get_secrets(method: PaymentMethod) -> dict[str, str]:
    """The decrypted secrets of ``method`` ({} when none)."""
    return _BOX.decrypt(method.secrets_encrypted)
