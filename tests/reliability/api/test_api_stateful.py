"""schemathesis stateful run of the whole API, in-process, with a client token and a staff token:
sequences of calls that feed one answer's ids into the next request (the schema's links and
schemathesis' inferred ones), 0 server errors. Bounded by ``RELIABILITY_API_EXAMPLES``."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings

from billow.catalog import cache as catalog_cache
from billow.ledger.selectors import forget_accounts
from tests.api.conftest import staff_user
from tests.api.test_schema import _keep_test_connection, schema, seeded

__all__ = ["_keep_test_connection", "seeded", "staff_user"]

# make reliability runs 30 examples per token (scripts/reliability.sh); the plain suite a few.
EXAMPLES = int(os.environ.get("RELIABILITY_API_EXAMPLES", "5"))
TOKENS: dict[str, str] = {}
CALLS: list[int] = []


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    """Each sequence runs in a savepoint rolled back after it: every sequence starts from the
    same seeded database, so hypothesis sees the same rules enabled when it replays one."""

    def setup(self) -> None:
        self._sequence = transaction.atomic()
        # Marked as a test case's block (as Django's TestCase marks its own), so the actions
        # that open a durable transaction (renewals, payments) run inside it as in a test.
        self._sequence._from_testcase = True
        self._sequence.__enter__()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._sequence.__exit__(None, None, None)
        forget_accounts()
        catalog_cache.clear()

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        who = "staff" if case.path.startswith("/api/v1/staff/") else "client"
        return {"headers": {"Authorization": TOKENS[who]}}

    def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
        CALLS.append(response.status_code)
        assert response.status_code < 500, (case.method, case.path, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["client", "staff"])
def test_stateful_sequences_never_get_a_server_error(
    seeded: dict[str, str], who: str, attempts: Any
) -> None:
    TOKENS.update(seeded)
    if who == "client":  # the staff routes with a client token too: refused, never a 500
        TOKENS["staff"] = seeded["client"]
    CALLS.clear()
    Workflow.run(
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: report the sequence found
        )
    )
    attempts(len(CALLS))
    assert CALLS and max(CALLS) < 500
