"""Module instances (configuration, encrypted secrets) and per-service settings a client or
staff change outside the lifecycle: auto-renewal, suspension by the client; and the state part
of deleting a service (``close_service``, called by billing's ``delete_service``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from billow.accounts.models import Client
from billow.catalog.models import ProductType, Tariff
from billow.catalog.selectors import get_tariff_info
from billow.core import clock
from billow.core.actors import Actor
from billow.core.audit import audit_kwargs
from billow.services.errors import InvalidTransitionError, ServiceValidationError
from billow.services.models import (
    ModuleInstance,
    Service,
    ServiceEvent,
    ServiceOperation,
)
from billow.services.modules.base import modules, validate_config
from billow.services.secrets import set_secrets
from billow.services.states import Operation

from .requests import request_operation
from .state import Transition, apply_transitions
from .transitions import S, transition_service


def create_module_instance(
    *,
    module: str,
    name: str,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    priority: int = 100,
    department: str = "support",
    product_types: Iterable[ProductType] = (),
    tariffs: Iterable[Tariff] = (),
    is_active: bool = True,
    actor: Actor | None = None,
) -> ModuleInstance:
    """A configured module instance; the config is validated by the module's config class
    (``invalid_module_config``), secrets are encrypted (``invalid_secret`` for unknown names)."""
    instance = ModuleInstance(
        module=module, name=name, priority=priority, department=department, is_active=is_active
    )
    configure_module_instance(instance=instance, config=config, secrets=secrets, actor=actor)
    instance.product_types.set(list(product_types))
    instance.tariffs.set(list(tariffs))
    return instance


def configure_module_instance(
    *,
    instance: ModuleInstance,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    actor: Actor | None = None,
) -> ModuleInstance:
    """Validate and store ``config`` (and ``secrets`` when given; None keeps the stored ones)."""
    instance.config = validate_config(instance.module, config)
    if secrets is not None:
        allowed = modules.get(instance.module).secret_fields
        unknown = sorted(set(secrets) - set(allowed))
        if unknown:
            raise ServiceValidationError(
                f"unknown secrets: {', '.join(unknown)}", code="invalid_secret"
            )
        set_secrets(instance, {k: v for k, v in secrets.items() if v})
    instance.save()
    return instance


NEVER_OPENED = frozenset({S.ORDERED, S.CONFIGURATION_REQUIRED, S.NOT_AVAILABLE})


def close_service(*, service: Service, reason: str, actor: Actor | None, now: datetime) -> Service:
    """The state part of deleting a service, inside the caller's transaction with the service
    locked. Call ``billow.billing.actions.delete_service`` (deletion policy and refund), which
    calls this.

    A service that never reached a panel (ordered, configuration required, not available,
    without an external id) is deleted at once; any other goes through ``apply_transitions``:
    with a module, in progress and a ``close`` operation keyed ``close:<id>:<day>`` (deleted
    when the module confirms); without one, straight to deleted."""
    if service.status in NEVER_OPENED and not service.external_id:
        return transition_service(
            service=service,
            to=S.DELETED,
            actor=actor,
            now=now,
            reason="deleted before it was opened",
        )
    move = Transition(service.pk, service.status, S.DELETED, reason, service.module_instance_id)
    apply_transitions([move], actor=actor, now=now)
    service.refresh_from_db()
    return service


def set_service_auto_renew(
    *, service: Service, period: str, actor: Actor | None = None, now: datetime | None = None
) -> Service:
    """Turn auto-renewal on for ``period`` (a period the tariff offers in the service's
    currency) or off (``""``). Deleted services refuse ``service_deleted``; an unchanged value
    writes nothing. Writes a ``service.auto_renew_set`` event."""
    moment = clock.now(now)
    with transaction.atomic():
        s = Service.objects.select_for_update().get(pk=service.pk)
        if s.status == S.DELETED:
            raise ServiceValidationError("the service is deleted", code="service_deleted")
        if period and period not in get_tariff_info(s.tariff_id, s.currency).prices:
            raise ServiceValidationError(
                f"auto-renewal for {period} is not offered in {s.currency}",
                code="invalid_auto_renew_period",
            )
        if period and not _renews_for(s.period, period):
            raise ServiceValidationError(
                f"a {s.period} service cannot renew for {period}",
                code="invalid_auto_renew_period",
            )
        if s.auto_renew_period != period:
            data = {"from": s.auto_renew_period, "to": period}
            s.auto_renew_period = period
            s.updated_at = moment
            s.save(update_fields=["auto_renew_period", "updated_at"])
            ServiceEvent.objects.create(
                service=s,
                from_status=s.status,
                to_status=s.status,
                **audit_kwargs(actor, "service.auto_renew_set", data, now=moment),
            )
    return s


def _renews_for(service_period: str, period: str) -> bool:
    """Hourly services renew by the hour and only they do; nothing renews for a trial."""
    if period == "trial":
        return False
    return (service_period == "hour") == (period == "hour")


# -- suspension by the client (reseller groups) ------------------------------------------------


def client_may_suspend(client: Client) -> bool:
    """Clients in a group with ``allow_suspend_resume`` (resellers) suspend and resume their own
    services; nobody else does."""
    return client.groups.filter(allow_suspend_resume=True).exists()


def suspend_by_client(
    *, service: Service, actor: Actor | None = None, now: datetime | None = None
) -> ServiceOperation:
    """The client suspends an active service (status ``suspended_client`` once the module has
    done it). Billing goes on: the service is held for the client, not given up. Refusals:
    ``suspend_resume_not_allowed`` (no reseller group), ``operation_not_allowed`` (not active)."""
    _check_client_may_suspend(service)
    if service.status != S.ACTIVE:
        raise InvalidTransitionError(
            "only an active service can be suspended", code="operation_not_allowed"
        )
    return request_operation(
        service=service,
        operation=Operation.SUSPEND,
        actor=actor,
        now=now,
        payload={"target_status": S.SUSPENDED_BY_CLIENT},
    )


def resume_by_client(
    *, service: Service, actor: Actor | None = None, now: datetime | None = None
) -> ServiceOperation:
    """The client resumes a service *they* suspended; a service suspended by staff, for
    non-payment or abuse is not theirs to resume (``operation_not_allowed``)."""
    _check_client_may_suspend(service)
    if service.status != S.SUSPENDED_BY_CLIENT:
        raise InvalidTransitionError(
            "only a service you suspended can be resumed here", code="operation_not_allowed"
        )
    return request_operation(service=service, operation=Operation.RESUME, actor=actor, now=now)


def _check_client_may_suspend(service: Service) -> None:
    if not client_may_suspend(service.client):
        raise ServiceValidationError(
            "suspending and resuming services is not enabled for this account",
            code="suspend_resume_not_allowed",
        )
