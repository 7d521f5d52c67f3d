"""The SQL test matrix: every hand-written statement (each app's ``sql.py``, ``core.rows``) runs
here on the suite's database and compares its rows with the ORM's for the same operation.

On PostgreSQL every matrix test runs twice: with Django's default client-side binding and with
psycopg's server-side binding (``OPTIONS={"server_side_binding": True}``), where parameters
travel typed (a small int as int2/int4, Django's integer fields as Int4/Int8) instead of as
literals. The ``binding`` fixture switches the test's own connection, so the test transaction
and its rows stay the same.

To add an app's statements (``billow/billing/sql.py``): put its builders under
``@rows.per_vendor`` / ``@rows.hand_written``, add its module to ``SQL_MODULES`` in
``test_coverage.py`` and write ``test_<app>_sql.py`` here taking the ``binding`` fixture; the
coverage test fails until each builder is listed there as covered.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection

# Fixtures of the apps whose statements the matrix runs (a service with its module instance,
# ledger accounts, a staff user); the services one also stands the clock at its T0.
from tests.api.conftest import staff_user  # noqa: F401
from tests.ledger.conftest import make_account, make_client  # noqa: F401
from tests.services.conftest import (  # noqa: F401
    _isolated,
    client,
    dummy,
    provider,
    service,
    tariff,
    vps_type,
)

#: Amounts near 2**62: far beyond 32 bits, and two of them still fit a signed 64-bit column.
BIG = 2**62 + 12_345


@contextmanager
def server_side_binding() -> Iterator[None]:
    """The test's connection binds parameters on the server until the block ends."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    pg = connection.connection
    options = connection.settings_dict["OPTIONS"]
    factory, option = pg.cursor_factory, options.get("server_side_binding")
    pg.cursor_factory = ServerBindingCursor
    options["server_side_binding"] = True
    connection.features.__dict__.pop("uses_server_side_binding", None)  # a cached_property
    try:
        yield
    finally:
        pg.cursor_factory = factory
        if option is None:
            options.pop("server_side_binding")
        else:
            options["server_side_binding"] = option
        connection.features.__dict__.pop("uses_server_side_binding", None)


@pytest.fixture(params=["client_binding", "server_binding"])
def binding(request: pytest.FixtureRequest, db: None) -> Iterator[str]:
    """The binding the test's statements run with (server-side: PostgreSQL only)."""
    if request.param == "client_binding":
        yield request.param
        return
    if connection.vendor != "postgresql":
        pytest.skip("server-side binding is a psycopg (PostgreSQL) option")
    with server_side_binding():
        yield request.param
