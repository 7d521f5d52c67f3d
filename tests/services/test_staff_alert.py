"""An operation that fails for good alerts staff through ``services.signals.staff_alert``,
which the notifications app connects to ``notify_staff`` (services imports no app above it)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from billow.notifications.models import OutboundEmail
from billow.services import actions
from billow.services.models import Service, Task
from billow.services.signals import staff_alert


@pytest.mark.django_db
def test_a_failed_operation_emails_staff_after_commit(
    settings: Any, service: Service, django_capture_on_commit_callbacks: mock.Mock
) -> None:
    settings.BILLOW_STAFF_EMAILS = ["ops@acme.example"]
    with mock.patch("billow.services.actions.requests.dispatch_operations"):
        op = actions.request_operation(service=service, operation="open")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.fail_operation(operation=op, code="connection_refused", message="host down")
    assert OutboundEmail.objects.count() == 0  # nothing before commit
    for callback in callbacks:
        callback()
    task = Task.objects.get(operation=op)
    email = OutboundEmail.objects.get()
    assert email.to == "ops@acme.example"
    assert email.subject == f"Operation open failed for service #{service.pk}"
    assert f"Task #{task.pk} has been opened for staff." in email.body


@pytest.mark.django_db
def test_a_receiver_that_raises_is_logged_not_raised(
    service: Service,
    django_capture_on_commit_callbacks: mock.Mock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(**_: Any) -> None:
        raise RuntimeError("smtp down")

    staff_alert.connect(broken, dispatch_uid="test-broken")
    try:
        with mock.patch("billow.services.actions.requests.dispatch_operations"):
            op = actions.request_operation(service=service, operation="open")
        with django_capture_on_commit_callbacks(execute=True):
            actions.fail_operation(operation=op, code="connection_refused")
    finally:
        staff_alert.disconnect(dispatch_uid="test-broken")
    assert Service.objects.get(pk=service.pk).status == "failed"
    assert "staff alert operation_failed failed" in caplog.text
