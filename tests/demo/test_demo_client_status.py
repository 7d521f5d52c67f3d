"""The demo's three clients show the right status (issue 13.2): each has an active service, so
each is active in the admin's client list and on its client page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from huey.contrib.djhuey import HUEY

from billow.accounts.models import Client
from billow.core import clock
from billow.demo.seed import seed_demo
from billow.web.admin_client import get_client_overview

pytestmark = pytest.mark.django_db
T0 = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


def test_demo_clients_are_active(django_capture_on_commit_callbacks: Any) -> None:
    previous, HUEY.immediate = HUEY.immediate, True
    try:
        with (
            clock.use_clock(clock.FixedClock(T0)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            seed_demo()
            statuses = dict(Client.objects.values_list("email", "status"))
            pages = {c.email: get_client_overview(c).status for c in Client.objects.all()}
    finally:
        HUEY.immediate = previous
    assert statuses == {
        "alice@example.com": "active",
        "ops@globex.example": "active",
        "ivan@example.com": "active",
    }
    assert pages == statuses
