"""Support fixtures: the client-area world of tests/web (clients A and B, each with a service
and a balance), a public department with an SLA and a staff member, an internal department."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from huey.contrib.djhuey import HUEY

from billow.support.models import Department, SlaTarget
from tests.web.conftest import WebWorld, login, web  # noqa: F401 - fixture re-exported

# Monday 7 December 2026, 10:00 UTC (business hours)
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@dataclass
class Desk:
    web: WebWorld
    support: Department
    internal: Department
    agent: User  # a staff member of ``support``
    outsider: User  # staff, in no department


def support_counts() -> dict[str, int]:
    """Row count of every support table: 'nothing written' checks."""
    return {
        m._meta.db_table: m.objects.count()
        for m in apps.get_app_config("support").get_models(include_auto_created=True)
    }


@pytest.fixture(autouse=True)
def _jobs_inline() -> Iterator[None]:
    previous = HUEY.immediate
    HUEY.immediate = True
    HUEY.flush()
    try:
        yield
    finally:
        HUEY.flush()
        HUEY.immediate = previous


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SUPPORT_REPLY_ADDRESS = "support@help.example"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def make_staff(username: str, email: str) -> User:
    """A staff member with the support app's permissions (the "Support" role's)."""
    from django.contrib.auth.models import Permission

    user = User.objects.create_user(username, email, "pw-staff-12345", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="support"))
    return user


@pytest.fixture
def desk(web: WebWorld) -> Desk:  # noqa: F811 - the fixture above
    agent = make_staff("agent", "agent@help.example")
    outsider = make_staff("outsider", "outsider@help.example")
    support = Department.objects.create(
        name="Technical support", email="help@help.example", timezone="UTC"
    )
    support.members.add(agent)
    SlaTarget.objects.create(
        department=support, priority="normal", first_response_minutes=60, resolution_minutes=480
    )
    internal = Department.objects.create(name="Second line", is_public=False)
    internal.members.add(agent)
    return Desk(web, support, internal, agent, outsider)


def staff_http(user: User) -> Any:
    return login(user)
