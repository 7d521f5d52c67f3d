"""Source password hashes -> Django's encoded form for the hashers in ``hashers.py``.

A hash whose scheme Billow can verify is kept, so the user logs in with the old password (and
Django re-hashes it on that login); anything else becomes "" -- an unusable password, and the
user gets a reset link (``billow import --reset-links``).
"""

from __future__ import annotations

import re

_WHMCS_MD5 = re.compile(r"^([0-9a-f]{32}):(.+)$")
_BCRYPT = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$")
_SHA512_CRYPT = re.compile(r"^\$6\$(rounds=\d+\$)?[^$]{1,16}\$[./A-Za-z0-9]{86}$")

#: Schemes a bundle may name (docs/migration.md).
SCHEMES = ("whmcs_md5", "bcrypt", "sha512_crypt")


def encode(scheme: str, source_hash: str) -> str:
    """The Django-encoded password, or "" when ``scheme`` is unknown or the hash malformed."""
    value = source_hash.strip()
    if scheme == "whmcs_md5" and (m := _WHMCS_MD5.match(value)):
        return f"whmcs_md5${m.group(2)}${m.group(1)}"
    if scheme == "bcrypt" and _BCRYPT.match(value):
        return f"bcrypt${value}"
    if scheme == "sha512_crypt" and _SHA512_CRYPT.match(value):
        return f"sha512_crypt${value}"
    return ""


def guess_scheme(source_hash: str) -> str:
    """The scheme of a hash a converter found (WHMCS mixes md5 and bcrypt in one column)."""
    value = source_hash.strip()
    if _BCRYPT.match(value):
        return "bcrypt"
    if _SHA512_CRYPT.match(value):
        return "sha512_crypt"
    if _WHMCS_MD5.match(value):
        return "whmcs_md5"
    return ""
