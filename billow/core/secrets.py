"""Secrets encrypted at rest: Fernet with a key derived from ``SECRET_KEY`` by HKDF.

Each use gets its own :class:`SecretBox` (own salt and info), so a secret of one kind can never
be decrypted as another. Rotating ``SECRET_KEY`` makes stored secrets unreadable
(``secrets_unreadable``): they must be entered again.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from billow.core.errors import BillowError, ValidationError


@dataclass(frozen=True)
class SecretBox:
    """Encrypts a name -> value mapping of text secrets into one token, and back."""

    salt: bytes
    info: bytes
    error: type[BillowError] = ValidationError

    def _fernet(self) -> Fernet:
        secret = str(settings.SECRET_KEY).encode()
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=self.salt, info=self.info)
        return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret)))

    def encrypt(self, secrets: Mapping[str, str]) -> str:
        """A Fernet token of the JSON of ``secrets`` ("" for no secrets)."""
        if not secrets:
            return ""
        for name, value in secrets.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise self.error("secrets are text names and values", code="invalid_secret")
        return self._fernet().encrypt(json.dumps(dict(secrets), sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, str]:
        """The secrets in ``token`` ({} for ""); ``secrets_unreadable`` under another key."""
        if not token:
            return {}
        try:
            plain = self._fernet().decrypt(token.encode())
        except InvalidToken:
            raise self.error(
                "stored secrets cannot be decrypted with this SECRET_KEY", code="secrets_unreadable"
            ) from None
        data: dict[str, str] = json.loads(plain)
        return data
