"""The catalog token shared through Redis (``CACHE_URL=redis://...``): a catalog write
committed in one process is seen by every other process at its next lookup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction

from billow.catalog import cache
from billow.catalog.models import CatalogVersion
from billow.core.shared_cache import redis_client

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(redis_client() is None, reason="needs CACHE_URL=redis://..."),
]


@pytest.mark.django_db(transaction=True)
def test_a_write_in_another_process_changes_the_token_here_at_once() -> None:
    before = cache.current_token()
    assert before == cache.current_token()  # no write, same token
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        url = f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    else:
        pytest.skip("the other process needs the test database by URL (PostgreSQL)")
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from billow.catalog import cache; cache.bump()",
        ],
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 0, other.stderr
    assert cache.current_token() != before  # no TOKEN_TTL wait: the version is in Redis


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_keeps_the_token() -> None:
    before = cache.current_token()
    with pytest.raises(RuntimeError), transaction.atomic():
        cache.bump()
        assert cache.current_token() != before  # inside: the database's own token
        raise RuntimeError("roll back")
    assert cache.current_token() == before
    assert CatalogVersion.objects.count() <= 1
