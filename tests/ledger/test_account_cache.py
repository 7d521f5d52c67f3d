"""Committed ledger accounts remembered per process (ledger.selectors.get_account_id)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from billow.accounts.models import Provider
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.postings import account_currencies
from billow.ledger.selectors import get_account_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider() -> Provider:
    return Provider.objects.create(name="P", code="p")


def _revenue(provider: Provider) -> int:
    return get_account_id(
        kind=AccountKind.PROVIDER_REVENUE, currency="USD", provider_id=provider.pk
    )


def test_an_account_is_remembered_once_committed(
    provider: Provider, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = _revenue(provider)
    with CaptureQueriesContext(connection) as queries:
        assert _revenue(provider) == first
        assert account_currencies([(first, 1)]) == {first: "USD"}
    assert len(queries) == 0


def test_a_rolled_back_account_is_not_remembered(provider: Provider) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        _revenue(provider)
        raise Boom
    assert not LedgerAccount.objects.exists()
    with CaptureQueriesContext(connection) as queries:
        again = _revenue(provider)
    assert len(queries) > 0  # looked up (and created) again, not taken from memory
    assert LedgerAccount.objects.get().pk == again
