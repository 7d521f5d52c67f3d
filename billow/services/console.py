"""VM consoles: short-lived signed tickets for the websocket proxy (``console_proxy``).

The client area issues a ticket only to the service's owner (the view finds the service
through the client's own services). The ticket is signed with SECRET_KEY and names the VNC
endpoint on the host (read from the module when it is issued), so the proxy needs no database
and cannot be pointed anywhere else; it is valid for ``TICKET_MAX_AGE_S`` seconds, which is
how long the browser has to open the connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from billow.core.errors import BillowError, ConflictError
from billow.services.models import Service
from billow.services.modules.base import ServiceContext
from billow.services.runner import build_module
from billow.services.states import ServiceStatus

SALT = "billow.services.console"
TICKET_MAX_AGE_S = 60


class ConsoleUnavailableError(ConflictError):
    code = "console_unavailable"


@dataclass(frozen=True, slots=True)
class ConsoleTicket:
    token: str
    url: str  # the websocket URL the browser opens


def proxy_url() -> str:
    return str(getattr(settings, "BILLOW_CONSOLE_PROXY_URL", "") or "")


def offers_console(service: Service) -> bool:
    instance = service.module_instance
    if instance is None or not proxy_url():
        return False
    from billow.services.modules.base import modules

    return hasattr(modules.get(instance.module), "console_address")


def issue_ticket(service: Service) -> ConsoleTicket:
    """A ticket for the console of ``service`` (the caller checked it is the client's own).
    Refusal: ``console_unavailable`` (no proxy, no console on the module, the VM not
    running)."""
    instance = service.module_instance
    if not offers_console(service) or instance is None:
        raise ConsoleUnavailableError("this service has no console")
    if service.status == ServiceStatus.DELETED or not service.external_id:
        raise ConsoleUnavailableError("the server does not exist")
    module = build_module(instance)
    ctx = ServiceContext(
        service_id=service.pk,
        operation="console",
        idempotency_key="",
        module_instance_id=instance.pk,
        external_id=service.external_id,
    )
    try:
        address = module.console_address(ctx)  # type: ignore[attr-defined]
    except BillowError as exc:
        raise ConsoleUnavailableError(exc.message) from None
    if address is None:
        raise ConsoleUnavailableError("the server is not running")
    host, port = address
    token = signing.dumps({"s": service.pk, "h": host, "p": int(port)}, salt=SALT)
    return ConsoleTicket(token, f"{proxy_url().rstrip('/')}/?token={token}")


def ticket_target(token: str, *, max_age: int = TICKET_MAX_AGE_S) -> tuple[str, int] | None:
    """The (host, port) a valid, fresh ticket names; None for a forged or expired one."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    return str(data["h"]), int(data["p"])
