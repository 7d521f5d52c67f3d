from __future__ import annotations
import pytest
from django.db import connection, transaction
from billow.ledger.actions import post_transaction, post_transactions_bulk
from billow.ledger.postings import Posting
from tests.ledger.helpers import balance_of

pytestmark = pytest.mark.postgres_only

@pytest.fixture
def ssb(db):
    from django.db.backends.postgresql.base import ServerBindingCursor
    connection.ensure_connection()
    old = connection.connection.cursor_factory
    connection.connection.cursor_factory = ServerBindingCursor
    connection.settings_dict["OPTIONS"]["server_side_binding"] = True
    connection.features.__dict__.pop("uses_server_side_binding", None)
    yield
    connection.connection.cursor_factory = old
    connection.settings_dict["OPTIONS"].pop("server_side_binding")
    connection.features.__dict__.pop("uses_server_side_binding", None)

def test_single(ssb, wallet, revenue):
    from django.test.utils import CaptureQueriesContext
    with CaptureQueriesContext(connection) as q:
        post_transaction(kind="adjustment", legs=[(wallet, 10**12), (revenue, -10**12)], idempotency_key="x0")
    [print(x["sql"]) for x in q.captured_queries]
    print("mid", balance_of(wallet))
    post_transaction(kind="adjustment", legs=[(wallet, 10**12), (revenue, -10**12)], idempotency_key="a")
    print("single", balance_of(wallet), balance_of(revenue))

def test_small(ssb, wallet, revenue):
    with transaction.atomic():
        post_transactions_bulk([Posting("adjustment", [(wallet, 10**12), (revenue, -10**12)], "b")])
    print("small", balance_of(wallet), balance_of(revenue))

def test_big(ssb, wallet, revenue):
    post_transactions_bulk([Posting("adjustment", [(wallet, 10**12), (revenue, -10**12)], "c")])
    print("big", balance_of(wallet), balance_of(revenue))

def test_dbg(ssb, wallet):
    from django.db.models import F
    from billow.ledger.models import LedgerAccount
    with connection.cursor() as cur:
        cur.execute('select pg_typeof(balance_minor), balance_minor from ledger_ledgeraccount where id = %s', [wallet.pk]); print(cur.fetchone())
        cur.execute('UPDATE ledger_ledgeraccount SET balance_minor = balance_minor + %s WHERE id = %s', [10**12, wallet.pk])
        cur.execute('select balance_minor from ledger_ledgeraccount where id = %s', [wallet.pk]); print(cur.fetchone())
        print(cur.cursor._query.types if cur.cursor._query else None)
    print(LedgerAccount.objects.values_list("balance_minor", flat=True).get(pk=wallet.pk))
    LedgerAccount.objects.filter(pk=wallet.pk).update(balance_minor=F("balance_minor") + 10**12)
    with connection.cursor() as cur:
        print(cur.cursor._query.types if cur.cursor._query else None)
        cur.execute('select balance_minor from ledger_ledgeraccount where id = %s', [wallet.pk]); print(cur.fetchone())
