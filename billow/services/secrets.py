"""Module-instance secrets encrypted at rest (``billow.core.secrets``, own salt).

Only :func:`set_secrets` writes ``ModuleInstance.secrets_encrypted`` and only :func:`get_secrets`
reads it back; the plain text never lands in a column, an event or the admin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from billow.core.secrets import SecretBox
from billow.services.errors import ServiceValidationError

if TYPE_CHECKING:
    from billow.services.models import ModuleInstance

_BOX = SecretBox(
    salt=b"billow.services.module-secrets",
    info=b"ModuleInstance.secrets_encrypted v1",
    error=ServiceValidationError,
)


def encrypt_secrets(secrets: Mapping[str, str]) -> str:
    """A Fernet token of the JSON of ``secrets`` ("" for no secrets)."""
    return _BOX.encrypt(secrets)


def decrypt_secrets(token: str) -> dict[str, str]:
    return _BOX.decrypt(token)


def set_secrets(instance: ModuleInstance, secrets: Mapping[str, str]) -> None:
    """Encrypt ``secrets`` into ``instance.secrets_encrypted`` (the caller saves)."""
    instance.secrets_encrypted = _BOX.encrypt(secrets)


def get_secrets(instance: ModuleInstance) -> dict[str, str]:
    """The decrypted secrets of ``instance`` ({} when none)."""
    return _BOX.decrypt(instance.secrets_encrypted)
