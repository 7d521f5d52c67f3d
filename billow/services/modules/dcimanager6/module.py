"""The DCImanager 6 processing module: a service is one physical server.

A server taken for service N carries ``comment = "billow:N"`` and an owner e-mail in
DCImanager, so every call finds it again (``open`` replays, ``sync``, ``close``): nothing is
taken twice. ``open`` takes the reserved server (``parameters["dci_server_id"]``, set by the
inventory when the order reserved one) or the first free server of the service's
configuration in the instance's location, starts the OS installation and waits for its task;
it answers pending when the install outlives ``install_wait_seconds`` (the janitor then asks
``sync``). The result carries the server id, its IP and the root credentials, encrypted
(``reveal_credentials``). Suspend / resume power the server off / on (and its switch port when
configured); close powers off, wipes the disks and gives the server back (no owner).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import date
from typing import Any

from django.conf import settings

from billow.core.secrets import SecretBox
from billow.services.errors import ServiceValidationError
from billow.services.modules.base import Outcome, ProcessingModule, ServiceContext, modules
from billow.services.modules.dcimanager6.client import DciClient, DciError, quoted
from billow.services.modules.dcimanager6.config import Dci6Config

_CREDENTIALS = SecretBox(
    salt=b"billow.services.dcimanager6",
    info=b"server credentials v1",
    error=ServiceValidationError,
)
POWER_ACTIONS = {"start": "power_on", "stop": "power_off", "reboot": "power_reset"}


def reveal_credentials(token: str) -> dict[str, str]:
    """The ``{"username", "password"}`` in an open's ``credentials`` token."""
    return _CREDENTIALS.decrypt(token)


def tag(service_id: int) -> str:
    return f"billow:{service_id}"


@modules.register("dcimanager6")
class Dci6Module(ProcessingModule):
    key = "dcimanager6"
    title = "DCImanager 6 (dedicated servers)"
    config_class = Dci6Config
    secret_fields = ("password",)
    actions = frozenset(POWER_ACTIONS)

    @property
    def cfg(self) -> Dci6Config:
        assert isinstance(self.config, Dci6Config)
        return self.config

    @property
    def api(self) -> DciClient:
        return DciClient(
            self.cfg.url,
            self.cfg.email,
            self.secrets.get("password", ""),
            timeout=self.cfg.timeout_seconds,
        )

    # -- plumbing ----------------------------------------------------------------------------

    def _find(self, service_id: int) -> dict[str, Any] | None:
        found = self.api.servers(where=f"comment EQ {quoted(tag(service_id))}", limit="0,1")
        return found[0] if found else None

    def _take(self, ctx: ServiceContext) -> dict[str, Any] | None:
        reserved = ctx.parameters.get("dci_server_id")
        if reserved:
            server = self.api.server(int(reserved))
            return server if server["owner_email"] is None else None
        configuration = str(ctx.parameters.get("configuration") or self.cfg.configuration)
        where = "(owner_email IS null) AND is_new EQ false"
        if configuration:
            where += f" AND configuration EQ {quoted(configuration)}"
        if self.cfg.location_id:
            where += f" AND location_id EQ {self.cfg.location_id}"
        free = self.api.servers(where=where, orderby="id asc", limit="0,1")
        return free[0] if free else None

    def _password(self, ctx: ServiceContext) -> str:
        """Stable per open key, so a replayed or synced open reports what was installed."""
        msg = f"dcimanager6:{self.instance_id}:{ctx.service_id}:{ctx.idempotency_key}"
        digest = hmac.new(str(settings.SECRET_KEY).encode(), msg.encode(), hashlib.sha256)
        return digest.hexdigest()[:20]

    def _wait(self, task_id: int) -> str:
        """The task's final status, or ``running`` when it outlives the install wait."""
        deadline = time.monotonic() + self.cfg.install_wait_seconds
        while True:
            status = str(self.api.task(task_id)["status"])
            if status in ("complete", "failed") or time.monotonic() >= deadline:
                return status
            time.sleep(self.cfg.task_poll_seconds)

    def _opened(self, server: dict[str, Any], ctx: ServiceContext) -> Outcome:
        ips = [str(ip.get("name", "")) for ip in server.get("ip") or []]
        creds = {"username": "root", "password": self._password(ctx)}
        return Outcome.succeeded(
            external_id=str(server["id"]),
            server_id=server["id"],
            name=server.get("name", ""),
            configuration=server.get("configuration", ""),
            ip=ips[0] if ips else "",
            os=server.get("os") or "",
            credentials=_CREDENTIALS.encrypt(creds),
        )

    def _refused(self, exc: DciError) -> Outcome:
        return Outcome.failed(
            code="dcimanager_error",
            message=exc.message,
            dci_code=exc.details.get("dci_code"),
        )

    def _power(self, ctx: ServiceContext, op: str, port: str | None) -> Outcome:
        try:
            server = self._find(ctx.service_id)
            if server is None:
                return Outcome.failed(
                    code="server_not_found", message=f"no server for service #{ctx.service_id}"
                )
            self.api.server_op(server["id"], op)
            if port and self.cfg.switch_ports:
                self.api.server_op(server["id"], "switch_port", {"state": port})
        except DciError as exc:
            return self._refused(exc)
        return Outcome.succeeded(external_id=str(server["id"]), power=op)

    # -- the contract --------------------------------------------------------------------------

    def check_connection(self) -> Outcome:
        try:
            count = len(self.api.configurations())
        except DciError as exc:
            return self._refused(exc)
        return Outcome.succeeded(message=f"connected: {count} configurations")

    def open(self, ctx: ServiceContext) -> Outcome:
        try:
            server = self._find(ctx.service_id)
            if server is None:
                server = self._take(ctx)
                if server is None:
                    return Outcome.failed(
                        code="no_free_server", message="no free server of this configuration"
                    )
                owner = str(ctx.parameters.get("owner_email") or self.cfg.owner_email)
                self.api.server_op(
                    server["id"], "owner", {"email": owner, "comment": tag(ctx.service_id)}
                )
            if server.get("os") == self.cfg.os_template:
                return self._opened(server, ctx)
            started = self.api.server_op(
                server["id"],
                "operating_system",
                {"os": self.cfg.os_template, "password": self._password(ctx)},
            )
            status = self._wait(int(started["task"]))
            if status == "failed":
                return Outcome.failed(code="os_install_failed", message="OS installation failed")
            if status != "complete":
                return Outcome.pending(
                    message="installing the OS",
                    retry_after=self.cfg.task_poll_seconds or 1,
                    server_id=server["id"],
                    task=started["task"],
                )
            return self._opened(self.api.server(server["id"]), ctx)
        except DciError as exc:
            return self._refused(exc)

    def suspend(self, ctx: ServiceContext) -> Outcome:
        return self._power(ctx, "power_off", "off")

    def resume(self, ctx: ServiceContext) -> Outcome:
        return self._power(ctx, "power_on", "on")

    def close(self, ctx: ServiceContext) -> Outcome:
        try:
            server = self._find(ctx.service_id)
            if server is None:
                return Outcome.succeeded(state="absent")
            sid = server["id"]
            self.api.server_op(sid, "power_off")
            wipe = self.api.server_op(sid, "disk_wipe")
            status = self._wait(int(wipe["task"]))
            if status == "failed":
                return Outcome.failed(code="disk_wipe_failed", message="wiping the disks failed")
            if status != "complete":
                return Outcome.pending(message="wiping the disks", retry_after=1, server_id=sid)
            self.api.server_op(sid, "owner", {"email": None, "comment": ""})
        except DciError as exc:
            return self._refused(exc)
        return Outcome.succeeded(external_id=str(sid), state="returned")

    def action(self, name: str, ctx: ServiceContext) -> Outcome:
        if name not in POWER_ACTIONS:
            return super().action(name, ctx)
        return self._power(ctx, POWER_ACTIONS[name], None)

    def set_param(self, ctx: ServiceContext) -> Outcome:
        return Outcome.succeeded(message="a dedicated server has no parameters to change")

    def prolong(self, ctx: ServiceContext) -> Outcome:
        return Outcome.succeeded()

    def sync(self, ctx: ServiceContext) -> Outcome:
        """Did ``ctx.checked_operation`` take effect? Read from the server's state."""
        try:
            server = self._find(ctx.service_id)
            op = ctx.checked_operation or ctx.operation
            if op == "close":
                if server is None:
                    return Outcome.succeeded(state="returned")
                return Outcome.failed(code="not_applied", message="the server is still taken")
            if server is None:
                return Outcome.failed(code="not_applied", message="no server for the service")
            if op == "open":
                if server.get("os") == self.cfg.os_template:
                    return self._opened(server, ctx)
                return Outcome.pending(message="installing the OS", retry_after=1)
            wanted = {"suspend": "off", "stop": "off", "resume": "on", "start": "on"}.get(op)
            if wanted and server.get("power_status") != wanted:
                return Outcome.failed(code="not_applied", message=f"power is not {wanted}")
        except DciError as exc:
            return self._refused(exc)
        return Outcome.succeeded(external_id=str(server["id"]))

    def stat(self, ctx: ServiceContext, day: date) -> Outcome:
        return Outcome.succeeded(values={})

    def discover(self) -> Outcome:
        """Servers with an owner (the taken ones), with the service id from their tag."""
        try:
            taken = self.api.servers(where="owner_email IS NOT null", limit="0,10000")
        except DciError as exc:
            return self._refused(exc)
        objects = []
        for s in taken:
            comment = str(s.get("comment") or "")
            service_id = comment.removeprefix("billow:") if comment.startswith("billow:") else ""
            objects.append(
                {
                    "external_id": str(s["id"]),
                    "name": s.get("name", ""),
                    "state": s.get("power_status", ""),
                    "service_id": int(service_id) if service_id.isdigit() else None,
                    "owner_email": s.get("owner_email"),
                    "configuration": s.get("configuration", ""),
                }
            )
        return Outcome.succeeded(objects=objects)
