"""VM actions for clients and staff: start, graceful stop, force stop, graceful reboot, hard
reset, password change (guest agent) and the service note.

Each (except storing the note) is a ``ServiceOperation`` requested through
``actions.request_operation``: a ``service.action_requested`` audit event in the same
transaction, the module call in a job after commit, the outcome on the operation row
(``status``, ``result``, ``error_code``) for the service page and the API. Refusals raise
``BillowError`` subclasses and change nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from billow.catalog.models import ParameterValue
from billow.core import clock
from billow.core.actors import Actor
from billow.services import actions
from billow.services.errors import ServiceValidationError
from billow.services.models import Service, ServiceOperation
from billow.services.modules.base import modules
from billow.services.secrets import encrypt_secrets
from billow.services.states import CUSTOM_ACTION_RULES, ServiceStatus

#: The power actions (operation names the module serves), in display order.
POWER_ACTIONS = ("start", "stop", "force_stop", "reboot", "reset")
NOTE_MAX_LENGTH = 2000
_PASSWORD_MIN, _PASSWORD_MAX = 8, 128


def supported_vm_actions(service: Service) -> list[str]:
    """The VM actions the service's module offers (empty without a module)."""
    if service.module_instance is None:
        return []
    offered = modules.get(service.module_instance.module).actions
    return [a for a in (*POWER_ACTIONS, "change_password", "reinstall") if a in offered]


def request_vm_action(
    *,
    service: Service,
    action: str,
    actor: Actor | None = None,
    key: str | None = None,
    now: datetime | None = None,
) -> ServiceOperation:
    """Queue a power action (``start``, ``stop``, ``force_stop``, ``reboot``, ``reset``) on an
    active service. Refusals: ``unknown_vm_action``, plus ``request_operation``'s
    (``operation_not_allowed``, ``operation_in_progress``, ``unknown_operation`` ...)."""
    if action not in POWER_ACTIONS:
        raise ServiceValidationError(f"no VM action {action!r}", code="unknown_vm_action")
    return actions.request_operation(
        service=service, operation=action, actor=actor, key=key, now=now
    )


def change_vm_password(
    *,
    service: Service,
    password: str,
    user: str = "root",
    actor: Actor | None = None,
    key: str | None = None,
    now: datetime | None = None,
) -> ServiceOperation:
    """Queue a password change through the guest agent. The password is stored only encrypted
    (``secrets.encrypt_secrets``) in the operation payload and never in events. Refusals:
    ``invalid_password`` (8..128 printable characters), ``invalid_user``; the module answers
    ``guest_agent_not_configured`` / ``guest_agent_unavailable`` when the VM has no agent."""
    _check_password(password)
    if not user or len(user) > 32 or not user.replace("-", "").replace("_", "").isalnum():
        raise ServiceValidationError("the user name is not valid", code="invalid_user")
    payload = {"user": user, "password_encrypted": encrypt_secrets({"password": password})}
    return actions.request_operation(
        service=service,
        operation="change_password",
        payload=payload,
        actor=actor,
        key=key,
        now=now,
    )


def _check_password(password: str) -> None:
    if not _PASSWORD_MIN <= len(password) <= _PASSWORD_MAX or not password.isprintable():
        raise ServiceValidationError(
            f"the password must be {_PASSWORD_MIN} to {_PASSWORD_MAX} printable characters",
            code="invalid_password",
        )


def reinstall_vm(
    *,
    service: Service,
    os: str,
    password: str,
    ssh_key: str = "",
    confirm: bool = False,
    actor: Actor | None = None,
    key: str | None = None,
    now: datetime | None = None,
) -> ServiceOperation:
    """Queue a reinstall: the VM's disk is replaced by a fresh copy of ``os`` (a value of the
    product type's OS parameter), cloud-init sets the new root ``password`` and ``ssh_key``;
    the addresses stay. On success the service's OS parameter becomes ``os``. Everything on
    the disk is lost, so ``confirm`` must be True. Refusals: ``confirmation_required``,
    ``invalid_password``, ``invalid_ssh_key``, ``invalid_parameter`` (not an OS value)."""
    if not confirm:
        raise ServiceValidationError(
            "reinstalling erases the disk: confirm it", code="confirmation_required"
        )
    _check_password(password)
    ssh_key = ssh_key.strip()
    if ssh_key and (len(ssh_key) > 4000 or not ssh_key.startswith(("ssh-", "ecdsa-", "sk-"))):
        raise ServiceValidationError("that is not an SSH public key", code="invalid_ssh_key")
    allowed = _os_values(service)
    if os not in allowed:
        raise ServiceValidationError(f"no operating system {os!r}", code="invalid_parameter")
    payload = {
        "parameters": {allowed[os]: os},
        "password_encrypted": encrypt_secrets({"password": password}),
        "ssh_key": ssh_key,
    }
    return actions.request_operation(
        service=service, operation="reinstall", payload=payload, actor=actor, key=key, now=now
    )


def _os_values(service: Service) -> dict[str, str]:
    """OS value -> parameter intname, from the product type's OS parameter (``os``)."""
    rows = ParameterValue.objects.filter(
        parameter__product_type_id=service.tariff.product_type_id,
        parameter__intname__in=("os", "ostempl", "os_template"),
        is_active=True,
    ).values_list("intname", "parameter__intname")
    return dict(rows)


def set_service_note(
    *,
    service: Service,
    note: str,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Service:
    """Store ``note`` on the service (``service.note_changed`` event) and, when its module
    offers ``set_note`` and the service is not deleted, queue the operation that writes it to
    the VM (domain description). All or nothing: a refused operation (another one running)
    leaves the old note. Refusals: ``note_too_long``, ``service_deleted``,
    ``operation_in_progress``."""
    moment = clock.now(now)
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ServiceValidationError(
            f"the note is longer than {NOTE_MAX_LENGTH} characters", code="note_too_long"
        )
    with transaction.atomic():
        svc = Service.objects.select_for_update().get(pk=service.pk)
        if svc.status == ServiceStatus.DELETED:
            raise ServiceValidationError("the service is deleted", code="service_deleted")
        if svc.note == note:
            return svc
        old = svc.note
        svc.note, svc.updated_at = note, moment
        svc.save(update_fields=["note", "updated_at"])
        actions.record_event(
            svc,
            "service.note_changed",
            actor,
            {"old_length": len(old), "length": len(note)},
            moment,
        )
        if _pushes_note(svc):
            actions.request_operation(
                service=svc, operation="set_note", payload={"note": note}, actor=actor, now=moment
            )
    service.note, service.updated_at = svc.note, svc.updated_at
    return svc


def _pushes_note(svc: Service) -> bool:
    """The note goes to the VM when the module writes notes and the VM exists."""
    instance = svc.module_instance
    return (
        instance is not None
        and "set_note" in modules.get(instance.module).actions
        and bool(svc.external_id)
        and svc.status in CUSTOM_ACTION_RULES["set_note"]
    )
