"""Requesting, running and finishing operations: refusals, dispatch, outcomes, tasks, janitor."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from billow.billing.actions import delete_service
from billow.core import clock
from billow.core.errors import BillowError
from billow.services import actions, runner
from billow.services.models import ModuleInstance, Service, ServiceOperation, Task
from billow.services.modules.dummy import store
from billow.services.secrets import get_secrets
from billow.services.tasks import janitor_operations, run_operation

from .conftest import T0, services_counts, snapshot


def _open(service: Service) -> None:
    op = actions.request_operation(service=service, operation="open")
    assert runner.execute_operation(operation_id=op.pk) == "succeeded"
    service.refresh_from_db()


@pytest.mark.django_db
def test_request_dispatches_after_commit_and_the_job_opens(
    service, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        op = actions.request_operation(service=service, operation="open")
        assert service.status == "in_progress"  # the caller's object is refreshed
    op.refresh_from_db()
    service.refresh_from_db()
    assert (op.status, op.attempts, op.from_status) == ("succeeded", 1, "ordered")
    assert (service.status, service.sub_state, service.opened_at) == ("active", "", T0)
    assert service.external_id == f"dummy-{service.module_instance_id}-1"
    assert op.result == {"status": "succeeded", "external_id": service.external_id}
    assert run_operation.call_local(op.pk) == "skipped"  # a replayed job does nothing


REFUSALS = [
    ("ordered", "suspend", None, "operation_not_allowed"),
    ("ordered", "resume", None, "operation_not_allowed"),
    ("active", "open", None, "operation_not_allowed"),
    ("active", "resume", None, "operation_not_allowed"),
    ("active", "suspend", {"target_status": "active"}, "invalid_suspend_status"),
    ("suspended_staff", "suspend", {"target_status": "suspended_staff"}, "invalid_suspend_status"),
    ("suspended_staff", "prolong", None, None),
    ("deleted", "close", None, "service_deleted"),
    ("deleted", "prolong", None, "service_deleted"),
    ("in_progress", "close", None, "operation_in_progress"),
    ("active", "format_disk", None, "unknown_operation"),
    ("active", "set_param", {"addon_values": {"cpu": 1}}, "addon_edit_forbidden"),
    ("active", "set_param", {"addon_values": {"disk": 25}}, "addon_step_mismatch"),
    ("active", "set_param", {"parameters": {"os": "windows"}}, "invalid_parameter"),
    ("active", "set_param", {}, "invalid_payload"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "operation", "payload", "code"), REFUSALS)
def test_bad_requests_are_refused_and_change_nothing(service, status, operation, payload, code):
    Service.objects.filter(pk=service.pk).update(status=status, sub_state="")
    before, counts = snapshot(service), services_counts()
    if code is None:  # control row: the same request is fine
        actions.request_operation(service=service, operation=operation, payload=payload)
        return
    with pytest.raises(BillowError) as err:
        actions.request_operation(service=service, operation=operation, payload=payload)
    assert err.value.code == code
    assert (snapshot(service), services_counts()) == (before, counts)


@pytest.mark.django_db
def test_idempotency_key(service):
    op = actions.request_operation(service=service, operation="open", key="k-1")
    counts = services_counts()
    assert actions.request_operation(service=service, operation="open", key="k-1").pk == op.pk
    with pytest.raises(BillowError) as err:
        actions.request_operation(service=service, operation="close", key="k-1")
    assert err.value.code == "idempotency_key_reused"
    assert services_counts() == counts


@pytest.mark.django_db
def test_no_module_instance(client, tariff):
    svc = actions.create_service(
        client=client, tariff=tariff, period="1m", currency="USD", parameters={"os": "debian-12"}
    )
    with pytest.raises(BillowError) as err:
        actions.request_operation(service=svc, operation="open")
    assert err.value.code == "no_module_instance"
    # it can still be deleted: it never reached a panel
    svc = delete_service(service=svc)
    assert (svc.status, svc.deleted_at) == ("deleted", T0)


@pytest.mark.django_db
def test_set_param_applies_new_values(service):
    _open(service)
    op = actions.request_operation(
        service=service, operation="set_param", payload={"addon_values": {"cpu": 4, "disk": 40}}
    )
    assert runner.execute_operation(operation_id=op.pk) == "succeeded"
    service.refresh_from_db()
    assert (service.status, service.addon_values) == ("active", {"cpu": 4, "disk": 40})
    remote = store(service.module_instance_id).objects[service.external_id]
    assert remote["addon_values"] == {"cpu": 4, "disk": 40}


@pytest.mark.django_db
def test_custom_action_keeps_status(service):
    _open(service)
    op = actions.request_operation(service=service, operation="stop")
    assert service.status == "active"
    assert runner.execute_operation(operation_id=op.pk) == "succeeded"
    assert store(service.module_instance_id).objects[service.external_id]["state"] == "stopped"
    service.refresh_from_db()
    assert service.status == "active"
    assert service.events.latest("id").type == "service.operation_succeeded"


@pytest.mark.django_db
def test_billing_style_bulk_rows_are_dispatched(service):
    """The billing run bulk-creates queued rows (no transition) and calls dispatch_operations."""
    _open(service)
    op = ServiceOperation.objects.create(
        service=service,
        module_instance=service.module_instance,
        operation="suspend",
        idempotency_key=f"suspend:{service.pk}:2027-03-01",
        payload={"target_status": "suspended_nonpayment"},
    )
    actions.dispatch_operations([op.pk])
    actions.dispatch_operations([op.pk])  # twice is harmless
    op.refresh_from_db()
    service.refresh_from_db()
    assert (op.status, op.attempts) == ("succeeded", 1)
    assert (service.status, service.suspended_at) == ("suspended_nonpayment", T0)


@pytest.mark.django_db
def test_final_failure_then_staff_retry_succeeds(service, dummy):
    actions.configure_module_instance(instance=dummy, config={"fail_mode": "always_fail"})
    op = actions.request_operation(service=service, operation="open")
    assert runner.execute_operation(operation_id=op.pk) == "failed"
    service.refresh_from_db()
    op.refresh_from_db()
    task = Task.objects.get(operation=op)
    assert (service.status, op.error_code) == ("failed", "dummy_failure")
    assert (task.kind, task.status, task.department) == ("failure", "open", "vps-team")
    assert task.link == f"/admin/services/service/{service.pk}/change/"
    # when staff fix the panel and retry now
    actions.configure_module_instance(instance=dummy, config={})
    actions.retry_operation(operation=op)  # dispatch is on commit: run it here
    service.refresh_from_db()
    assert (service.status, service.sub_state) == ("in_progress", "open")
    assert runner.execute_operation(operation_id=op.pk) == "succeeded"
    service.refresh_from_db()
    task.refresh_from_db()
    assert (service.status, task.status) == ("active", "done")


@pytest.mark.django_db
def test_failure_task_completed_by_hand_applies_the_result(service, dummy):
    actions.configure_module_instance(instance=dummy, config={"fail_mode": "always_fail"})
    op = actions.request_operation(service=service, operation="open")
    runner.execute_operation(operation_id=op.pk)
    task = Task.objects.get(operation=op)
    actions.complete_task(task=task, data={"external_id": "by-hand-7"}, resolution="done by hand")
    service.refresh_from_db()
    op.refresh_from_db()
    assert (service.status, service.external_id, op.status) == ("active", "by-hand-7", "succeeded")
    with pytest.raises(BillowError) as err:
        actions.complete_task(task=task)
    assert err.value.code == "task_closed"


@pytest.mark.django_db
def test_manual_task_cancelled_puts_the_service_back(client, tariff, vps_type):
    actions.create_module_instance(
        module="manual", name="hands", product_types=[vps_type], department="noc"
    )
    svc = actions.create_service(
        client=client, tariff=tariff, period="1m", currency="USD", parameters={"os": "debian-12"}
    )
    op = actions.request_operation(service=svc, operation="open")
    assert runner.execute_operation(operation_id=op.pk) == "pending"
    task = Task.objects.get(operation=op)
    assert (task.kind, task.department, task.status) == ("operation", "noc", "open")
    actions.cancel_task(task=task, reason="customer changed their mind")
    svc.refresh_from_db()
    op.refresh_from_db()
    assert (svc.status, svc.sub_state, op.status) == ("ordered", "", "cancelled")


@pytest.mark.django_db
def test_manual_task_failed_fails_the_service(client, tariff, vps_type):
    actions.create_module_instance(module="manual", name="hands", product_types=[vps_type])
    svc = actions.create_service(
        client=client, tariff=tariff, period="1m", currency="USD", parameters={"os": "debian-12"}
    )
    op = actions.request_operation(service=svc, operation="open")
    runner.execute_operation(operation_id=op.pk)
    actions.complete_task(task=Task.objects.get(operation=op), success=False, resolution="no rack")
    svc.refresh_from_db()
    op.refresh_from_db()
    assert (svc.status, op.status, op.error_code) == ("failed", "failed", "manual_failed")
    assert Task.objects.filter(operation=op, kind="failure", status="open").count() == 1


@pytest.mark.django_db
def test_queued_operation_of_a_deleted_service_is_cancelled(service):
    op = actions.request_operation(service=service, operation="open")
    Service.objects.filter(pk=service.pk).update(status="deleted")
    assert runner.execute_operation(operation_id=op.pk) == "cancelled"
    op.refresh_from_db()
    assert op.status == "cancelled"


# -- the janitor -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_janitor_requeues_stuck_dispatches_due_and_resolves_unknown(service, client, tariff):
    fixed = clock.get_clock()
    assert isinstance(fixed, clock.FixedClock)
    # given an operation stuck in running, one due for retry and one unknown
    stuck = actions.request_operation(service=service, operation="open")
    ServiceOperation.objects.filter(pk=stuck.pk).update(status="running", attempts=1, started_at=T0)
    other = actions.create_service(
        client=client, tariff=tariff, period="1m", currency="USD", parameters={"os": "debian-12"}
    )
    due = actions.request_operation(service=other, operation="open")
    ServiceOperation.objects.filter(pk=due.pk).update(next_attempt_at=T0 + timedelta(seconds=30))
    third = actions.create_service(
        client=client, tariff=tariff, period="1m", currency="USD", parameters={"os": "debian-12"}
    )
    unknown = actions.request_operation(service=third, operation="open")
    ServiceOperation.objects.filter(pk=unknown.pk).update(
        status="unknown", attempts=1, next_attempt_at=T0 + timedelta(seconds=60)
    )
    # when the janitor runs too early, nothing happens
    assert janitor_operations.call_local() == {
        "requeued_stuck": 0,
        "failed_stuck": 0,
        "dispatched": 0,
    }
    # when it runs after the running timeout (huey immediate: dispatched jobs run inline)
    fixed.advance(seconds=601)
    report = janitor_operations.call_local()
    assert report == {
        "requeued_stuck": 1,
        "failed_stuck": 0,
        "dispatched": 3,
        "resolved_requeued": 1,
    }
    statuses = {o.pk: (o.status, o.attempts) for o in ServiceOperation.objects.all()}
    assert statuses[stuck.pk] == ("succeeded", 2)
    assert statuses[due.pk] == ("succeeded", 1)
    # the unknown open never reached the dummy panel: sync said "not applied", so it was
    # queued again at once and ran in the same pass
    assert statuses[unknown.pk] == ("succeeded", 2)
    assert list(Service.objects.values_list("status", flat=True)) == ["active"] * 3


@pytest.mark.django_db
def test_janitor_fails_stuck_operations_out_of_attempts(service):
    op = actions.request_operation(service=service, operation="open")
    ServiceOperation.objects.filter(pk=op.pk).update(
        status="running", attempts=6, started_at=T0 - timedelta(hours=1)
    )
    report = runner.sweep_operations()
    op.refresh_from_db()
    service.refresh_from_db()
    assert (report.failed_stuck, op.status, op.error_code) == (1, "failed", "timeout")
    assert service.status == "failed"


@pytest.mark.django_db
def test_command_runs_due_operations(service):
    actions.request_operation(service=service, operation="open")
    out = StringIO()
    call_command("operations", "--run-due", stdout=out)
    assert out.getvalue().strip() == "operations: succeeded=1"
    service.refresh_from_db()
    assert service.status == "active"


# -- module instances and secrets ---------------------------------------------------------------


@pytest.mark.django_db
def test_secrets_are_encrypted_at_rest(dummy):
    actions.configure_module_instance(
        instance=dummy, config={"latency_ms": 0}, secrets={"password": "hunter2"}
    )
    stored = ModuleInstance.objects.get(pk=dummy.pk)
    assert "hunter2" not in stored.secrets_encrypted
    assert stored.secrets_encrypted.startswith("gAAAAA")  # a Fernet token
    assert get_secrets(stored) == {"password": "hunter2"}
    assert runner.build_module(stored).secrets == {"password": "hunter2"}
    actions.configure_module_instance(instance=stored, config={})  # None keeps the secrets
    assert get_secrets(ModuleInstance.objects.get(pk=dummy.pk)) == {"password": "hunter2"}


@pytest.mark.django_db
def test_unreadable_secrets_after_key_change(dummy, settings):
    actions.configure_module_instance(instance=dummy, secrets={"password": "x"})
    settings.SECRET_KEY = "another-key-entirely-0123456789abcdef"
    with pytest.raises(BillowError) as err:
        get_secrets(ModuleInstance.objects.get(pk=dummy.pk))
    assert err.value.code == "secrets_unreadable"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("module", "config", "secrets", "code"),
    [
        ("dummy", {"fail_mode": "sometimes"}, None, "invalid_module_config"),
        ("dummy", {"latency_ms": "fast"}, None, "invalid_module_config"),
        ("dummy", {"latency_ms": True}, None, "invalid_module_config"),
        ("dummy", {"latency_ms": -1}, None, "invalid_module_config"),
        ("dummy", {"colour": "red"}, None, "invalid_module_config"),
        ("dummy", {}, {"token": "x"}, "invalid_secret"),
        ("manual", {}, {"password": "x"}, "invalid_secret"),
        ("nope", {}, None, "not_found"),
    ],
)
def test_bad_module_config_is_refused(db, module, config, secrets, code):
    before = services_counts()
    with pytest.raises(BillowError) as err:
        actions.create_module_instance(module=module, name="x", config=config, secrets=secrets)
    assert err.value.code == code
    assert services_counts() == before


@pytest.mark.django_db
def test_the_sync_context_names_the_operation_it_checks(service: Service) -> None:
    from billow.services.selectors import build_context

    op = actions.request_operation(service=service, operation="open")
    op = ServiceOperation.objects.select_related("service__tariff__product_type").get(pk=op.pk)
    assert (build_context(op, "sync").operation, build_context(op, "sync").checked_operation) == (
        "sync",
        "open",
    )
    assert build_context(op).checked_operation == ""
