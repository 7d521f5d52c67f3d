"""Fixtures shared by every app's tests. App-specific fixtures live in tests/<app>/conftest.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

# The real Ceph RGW fixture (``ceph_rgw``) for tests marked ``ceph``.
pytest_plugins = ["tests.ceph"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``postgres_only`` tests when the suite runs on SQLite."""
    import django

    django.setup()
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgresql://...)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _documents_emailed_at_once(settings: Any) -> None:
    """Tests see a document's email right after its commit (production waits a couple of
    minutes: ``invoicing.delivery``); tests/invoicing/test_delivery.py checks the delay."""
    settings.BILLOW = {**settings.BILLOW, "DOCUMENT_EMAIL_DELAY_SECONDS": 0}


@pytest.fixture(autouse=True)
def _sandbox_allowed(settings: Any) -> None:
    """The suite pays through the sandbox gateway, which production refuses
    (tests/payments/test_sandbox_gate.py checks the refusal)."""
    settings.PAYMENTS_ALLOW_SANDBOX = True


@pytest.fixture(autouse=True)
def _staff_mfa_off(settings: Any) -> None:
    """Production sends staff without MFA to enrolment before the admin; the suite's admin
    tests log in without MFA, so tests of the rule opt in (tests/web/test_staff_mfa.py)."""
    settings.BILLOW_STAFF_MFA_REQUIRED = False


@pytest.fixture(autouse=True)
def _forget_process_caches() -> None:
    """Each test starts with empty per-process caches: rolled-back rows give their ids to the
    next test's rows (SQLite), so what one test remembered must not reach the next."""
    from billow.catalog import cache as catalog_cache
    from billow.ledger.selectors import forget_accounts

    forget_accounts()
    catalog_cache.clear()
