"""The hashers of imported passwords verify what the source systems wrote."""

from __future__ import annotations

import hashlib

import bcrypt
import pytest
from django.contrib.auth.hashers import check_password, identify_hasher

from billow.imports.hashers import sha512_crypt
from billow.imports.passwords import encode, guess_scheme


@pytest.mark.parametrize(
    ("password", "setting", "expected"),
    [
        # the test vectors of Drepper's "Unix crypt using SHA-256 and SHA-512"
        (
            "Hello world!",
            "$6$saltstring",
            "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbY"
            "EdFCoEOfaS35inz1",
        ),
        (
            "Hello world!",
            "$6$rounds=10000$saltstringsaltstring",
            "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0"
            "Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.",
        ),
        (
            "we have a short salt string but not a short password",
            "$6$rounds=77777$short",
            "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUe"
            "OxFmtlcGZelFl5CxtgfiAc0",
        ),
    ],
)
def test_sha512_crypt_matches_the_specification(password: str, setting: str, expected: str) -> None:
    assert sha512_crypt(password, setting) == expected


def test_each_scheme_verifies_its_password_and_nothing_else(db: object) -> None:
    md5 = hashlib.md5(b"k3y$!secret", usedforsecurity=False).hexdigest() + ":k3y$!"
    php_bcrypt = bcrypt.hashpw(b"secret", bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$")
    crypt6 = sha512_crypt("secret", "$6$abcdefgh")

    for source_hash in (md5, php_bcrypt, crypt6):
        encoded = encode(guess_scheme(source_hash), source_hash)
        assert encoded, source_hash
        assert identify_hasher(encoded).algorithm in ("whmcs_md5", "bcrypt", "sha512_crypt")
        assert check_password("secret", encoded)
        assert not check_password("Secret", encoded)


@pytest.mark.parametrize("source_hash", ["", "plain", "5f4dcc3b5aa765d61d8327deb882cf99", "$1$x$y"])
def test_an_unknown_hash_becomes_no_password(source_hash: str) -> None:
    assert encode(guess_scheme(source_hash), source_hash) == ""
