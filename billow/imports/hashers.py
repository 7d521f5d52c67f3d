"""Password hashers for hashes brought over by ``billow import`` (registered in settings).

They only *verify*: on a user's first successful login Django re-hashes the password with the
preferred hasher (the algorithm differs, so ``check_password`` upgrades it). Encoded forms:

* ``whmcs_md5$<salt>$<md5 hex>`` -- WHMCS before bcrypt: ``md5(salt + password)``, stored by
  WHMCS as ``<md5 hex>:<salt>``;
* ``bcrypt$$2y$...`` -- WHMCS 5.3.9 and later (PHP ``password_hash``); Django's own
  ``BCryptPasswordHasher`` verifies it as it is;
* ``sha512_crypt$$6$[rounds=N$]<salt>$<hash>`` -- glibc SHA-512 crypt, as ISPsystem's
  BILLmanager keeps its users' passwords (implemented here from the published specification,
  since Python's ``crypt`` module is deprecated and leaves Python 3.13).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.translation import gettext_noop as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ROUNDS_DEFAULT, ROUNDS_MIN, ROUNDS_MAX = 5000, 1000, 999_999_999
# The byte order of SHA-512 crypt's final encoding (the specification's b64_from_24bit calls).
# For byte i of 0..20 the triple is (i, i + 21, i + 42), rotated left by i % 3.
_TRIPLES = [((i, i + 21, i + 42) * 2)[i % 3 : i % 3 + 3] for i in range(21)]


class WHMCSMD5PasswordHasher(BasePasswordHasher):
    algorithm = "whmcs_md5"

    def encode(self, password: str, salt: str) -> str:
        digest = hashlib.md5((salt + password).encode(), usedforsecurity=False).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, rest = encoded.split("$", 1)
        salt, _sep, digest = rest.rpartition("$")
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return hmac.compare_digest(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict[str | StrPromise, Any]:
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("salt"): mask_hash(decoded["salt"], show=2),
            _("hash"): mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return True

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass


class SHA512CryptPasswordHasher(BasePasswordHasher):
    algorithm = "sha512_crypt"

    def encode(self, password: str, salt: str) -> str:
        return f"{self.algorithm}${sha512_crypt(password, salt)}"

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, crypted = encoded.split("$", 1)
        setting, _sep, digest = crypted.rpartition("$")
        return {"algorithm": algorithm, "hash": digest, "salt": setting}

    def verify(self, password: str, encoded: str) -> bool:
        setting = self.decode(encoded)["salt"]
        try:
            return hmac.compare_digest(encoded, self.encode(password, setting))
        except ValueError:  # a malformed setting never verifies
            return False

    def safe_summary(self, encoded: str) -> dict[str | StrPromise, Any]:
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("salt"): mask_hash(decoded["salt"], show=6),
            _("hash"): mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return True

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass


def sha512_crypt(password: str, setting: str) -> str:
    """glibc's ``crypt(password, setting)`` for ``$6$`` settings (Drepper's "Unix crypt using
    SHA-256 and SHA-512"): ``$6$[rounds=N$]salt[$...]`` -> ``$6$[rounds=N$]salt$hash``."""
    if not setting.startswith("$6$"):
        raise ValueError("not a SHA-512 crypt setting")
    rest = setting[3:]
    rounds, explicit = ROUNDS_DEFAULT, False
    if rest.startswith("rounds="):
        count, _sep, rest = rest[7:].partition("$")
        rounds, explicit = min(max(int(count), ROUNDS_MIN), ROUNDS_MAX), True
    salt = rest.split("$", 1)[0][:16].encode()
    key = password.encode()
    digest = _sha512_crypt_digest(key, salt, rounds)
    prefix = f"$6$rounds={rounds}$" if explicit else "$6$"
    return f"{prefix}{salt.decode()}${_encode(digest)}"


def _sha512_crypt_digest(key: bytes, salt: bytes, rounds: int) -> bytes:
    b = hashlib.sha512(key + salt + key).digest()
    a = hashlib.sha512(key + salt)
    length = len(key)
    for _i in range(length // 64):
        a.update(b)
    a.update(b[: length % 64])
    i = length
    while i:
        a.update(b if i & 1 else key)
        i >>= 1
    c = a.digest()
    dp = hashlib.sha512(key * length).digest()
    p = (dp * (length // 64 + 1))[:length]
    ds = hashlib.sha512(salt * (16 + c[0])).digest()
    s = (ds * (len(salt) // 64 + 1))[: len(salt)]
    for r in range(rounds):
        h = hashlib.sha512(p if r & 1 else c)
        if r % 3:
            h.update(s)
        if r % 7:
            h.update(p)
        h.update(c if r & 1 else p)
        c = h.digest()
    return c


def _encode(c: bytes) -> str:
    out = []
    for first, second, third in _TRIPLES:
        # The specification rotates which byte leads: b64_from_24bit(c[x], c[y], c[z], 4).
        w = (c[first] << 16) | (c[second] << 8) | c[third]
        for _n in range(4):
            out.append(ITOA64[w & 0x3F])
            w >>= 6
    w = c[63]
    for _n in range(2):
        out.append(ITOA64[w & 0x3F])
        w >>= 6
    return "".join(out)
