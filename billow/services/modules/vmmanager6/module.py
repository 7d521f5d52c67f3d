"""The VMmanager 6 processing module (reference §2.5, §2.7, §3.1).

A service's VM is the host ``<name_prefix><service id>`` owned by its client's VMmanager user
(``account_email``, created on the first order); its ``external_id`` is the host id. Every
operation is convergent: an open retried after a lost reply finds the host by name and makes
no second one; ``sync`` answers from the host's state (and its task history) whether an
operation took effect. Long operations are VMmanager tasks: the module polls a task for up to
``task_wait_s`` and answers ``pending`` beyond that; the janitor's ``sync`` picks it up.
Resource changes follow VMmanager's hot-resize rules (CPU and RAM only up, RAM in 1024 MiB
steps); any other change on a running VM is applied and the VM rebooted.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from billow.services.modules.base import Outcome, ProcessingModule, ServiceContext, modules
from billow.services.modules.vmmanager6.client import VmmClient, VmmRefused
from billow.services.modules.vmmanager6.config import VmManager6Config
from billow.services.secrets import decrypt_secrets, encrypt_secrets

Host = dict[str, Any]
VM_ACTIONS = frozenset(
    {"start", "stop", "force_stop", "reboot", "reset", "change_password", "set_note"}
)
SETTLED = frozenset({"active", "stopped"})
FAILED_STATES = frozenset({"creating_failed", "error"})
HOT_RAM_STEP_MIB = 1024
#: The VMmanager task an operation runs, for ``sync`` to find in the host's history.
TASK_OF = {
    "reboot": "host_restart",
    "reset": "host_restart_force",
    "change_password": "host_password",
    "reinstall": "host_reinstall",
}
_UNIT_MIB = {"MiB": 1, "GiB": 1024}


@dataclass(frozen=True, slots=True)
class Sizes:
    cpu_number: int
    ram_mib: int
    disk_mib: int


class _Stop(Exception):
    """Carries the outcome of a step that ends the operation early (task failed or pending)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.code or outcome.status.value)
        self.outcome = outcome


@modules.register("vmmanager6")
class VmManager6Module(ProcessingModule):
    key = "vmmanager6"
    title = "VMmanager 6"
    config_class = VmManager6Config
    secret_fields = ("password",)
    actions = VM_ACTIONS | {"reinstall", "recreate", "link"}

    @property
    def cfg(self) -> VmManager6Config:
        assert isinstance(self.config, VmManager6Config)
        return self.config

    @property
    def api(self) -> VmmClient:
        cfg = self.cfg
        password = self.secrets.get("password", "")
        return VmmClient(cfg.url, cfg.email, password, timeout=cfg.timeout_s, verify=cfg.verify_tls)

    # -- plumbing ----------------------------------------------------------------------------

    def _run(self, work: Callable[[VmmClient], Outcome]) -> Outcome:
        """``work(api)``; VMmanager refusals -> ``failed`` (RetryableError passes through)."""
        try:
            return work(self.api)
        except _Stop as stop:
            return stop.outcome
        except VmmRefused as exc:
            return Outcome.failed(
                code=exc.code, message=exc.message, vmm_code=exc.vmm_code, http=exc.http
            )

    def _name(self, service_id: int) -> str:
        return f"{self.cfg.name_prefix}{service_id}"

    def _find(self, api: VmmClient, ctx: ServiceContext) -> Host | None:
        """The service's host: by id (``external_id``), else by its name."""
        if ctx.external_id.isdigit():
            hosts = api.get_list("/vm/v3/host", id=int(ctx.external_id))
            if hosts:
                return hosts[0]
        hosts = api.get_list("/vm/v3/host", name=self._name(ctx.service_id))
        return min(hosts, key=lambda h: int(h["id"])) if hosts else None

    def _host(self, api: VmmClient, host_id: int) -> Host | None:
        hosts = api.get_list("/vm/v3/host", id=host_id)
        return hosts[0] if hosts else None

    def _await(self, api: VmmClient, answer: Any, **pending_data: Any) -> None:
        """Poll the task of ``answer`` until it ends; raise ``_Stop`` with ``failed`` when it
        failed and with ``pending`` when it is still running after ``task_wait_s``."""
        task_id = answer.get("task") if isinstance(answer, dict) else None
        if not task_id:
            return
        deadline = time.monotonic() + self.cfg.task_wait_s
        while True:
            task = api.get(f"/vm/v3/task/{task_id}")
            status = str(task.get("status", ""))
            if status == "complete":
                return
            if status == "failed":
                raise _Stop(
                    Outcome.failed(
                        code="vmmanager_task_failed",
                        message=str(task.get("output") or f"task {task_id} failed"),
                        task=task_id,
                    )
                )
            if time.monotonic() >= deadline:
                raise _Stop(
                    Outcome.pending(
                        message=f"VMmanager task {task_id} is {status or 'running'}",
                        retry_after=max(self.cfg.poll_interval_s, 5.0),
                        task=task_id,
                        **pending_data,
                    )
                )
            time.sleep(self.cfg.poll_interval_s)

    def _wait_settled(self, api: VmmClient, host: Host) -> Host:
        """Wait for a host in a transitional state (a task of an earlier attempt)."""
        deadline = time.monotonic() + self.cfg.task_wait_s
        while host["state"] not in SETTLED:
            if host["state"] in FAILED_STATES:
                raise _Stop(Outcome.failed(code="vm_failed", message=f"host is {host['state']}"))
            if time.monotonic() >= deadline:
                raise _Stop(
                    Outcome.pending(
                        message=f"host {host['id']} is {host['state']}",
                        retry_after=max(self.cfg.poll_interval_s, 5.0),
                        vm_id=host["id"],
                    )
                )
            time.sleep(self.cfg.poll_interval_s)
            fresh = self._host(api, int(host["id"]))
            if fresh is None:
                raise _Stop(Outcome.failed(code="vm_not_found", message="the host is gone"))
            host = fresh
        return host

    def _facts(self, api: VmmClient, host: Host) -> dict[str, Any]:
        ips = [i.get("ip_addr", "") for i in api.get_list(f"/vm/v3/host/{host['id']}/ipv4")]
        return {
            "vm_id": host["id"],
            "name": host.get("name", ""),
            "state": host.get("state", ""),
            "cpu_number": host.get("cpu_number"),
            "ram_mib": host.get("ram_mib"),
            "disk_mib": (host.get("disk") or {}).get("disk_mib"),
            "os": (host.get("os") or {}).get("name", ""),
            "ips": [ip for ip in ips if ip],
        }

    def _done(self, api: VmmClient, host_id: int, **data: Any) -> Outcome:
        host = self._host(api, host_id)
        if host is None:
            return Outcome.failed(code="vm_not_found", message=f"host {host_id} is gone")
        return Outcome.succeeded(external_id=str(host_id), **{**self._facts(api, host), **data})

    def _with_host(
        self, ctx: ServiceContext, work: Callable[[VmmClient, Host], Outcome]
    ) -> Outcome:
        def run(api: VmmClient) -> Outcome:
            host = self._find(api, ctx)
            if host is None:
                return Outcome.failed(
                    code="vm_not_found", message=f"no VM for service #{ctx.service_id}"
                )
            return work(api, self._wait_settled(api, host))

        return self._run(run)

    # -- accounts, OS, sizes ---------------------------------------------------------------------

    def account_email(self, client_id: int | None) -> str:
        return self.cfg.account_email.replace("{client_id}", str(client_id or 0))

    def _ensure_account(self, api: VmmClient, client_id: int | None) -> int:
        """The client's VMmanager user, created on first use (one per client)."""
        if client_id is None:
            raise _Stop(Outcome.failed(code="client_unknown", message="the service has no client"))
        email = self.account_email(client_id)
        found = api.get_list("/vm/v3/account", email=email)
        if found:
            return int(found[0]["id"])
        try:
            created = api.post(
                "/vm/v3/account",
                {"email": email, "password": _password(), "role": "@user"},
            )
        except VmmRefused:
            found = api.get_list("/vm/v3/account", email=email)  # made by a concurrent order
            if not found:
                raise
            return int(found[0]["id"])
        return int(created["id"])

    def os_list(self, api: VmmClient | None = None) -> list[dict[str, Any]]:
        """VMmanager's OS templates as ``{"intname": "<repository>__<template>", "name", "id"}``."""
        api = api or self.api
        out = []
        for os in api.get_list("/vm/v3/os"):
            repo = (os.get("repository") or {}).get("name", "")
            name = str(os.get("name", ""))
            out.append({"intname": f"{repo}__{name}", "name": name, "id": int(os["id"])})
        return out

    def _os_id(self, api: VmmClient, intname: str) -> int:
        if not intname:
            raise _Stop(Outcome.failed(code="os_required", message="no operating system chosen"))
        for os in self.os_list(api):
            if os["intname"] == intname:
                return int(os["id"])
        raise _Stop(Outcome.failed(code="os_not_found", message=f"VMmanager has no OS {intname}"))

    def sizes(self, addon_values: Mapping[str, Any]) -> Sizes:
        cfg = self.cfg

        def value(name: str, default: int) -> int:
            raw = addon_values.get(name)
            return default if raw is None or raw == "" else int(raw)

        return Sizes(
            cpu_number=value(cfg.cpu_addon, cfg.default_vcpus),
            ram_mib=value(cfg.ram_addon, cfg.default_ram) * _UNIT_MIB[cfg.ram_unit],
            disk_mib=value(cfg.disk_addon, cfg.default_disk) * _UNIT_MIB[cfg.disk_unit],
        )

    # -- contract ------------------------------------------------------------------------------

    def check_connection(self) -> Outcome:
        try:
            return self._run(
                lambda api: Outcome.succeeded(
                    message=f"{len(api.get_list('/vm/v3/os'))} OS templates"
                )
            )
        except Exception as exc:  # staff want the reason, whatever it is
            return Outcome.failed(code=getattr(exc, "code", "vmmanager_error"), message=str(exc))

    def open(self, ctx: ServiceContext) -> Outcome:
        return self._run(lambda api: self._open(api, ctx))

    def _open(self, api: VmmClient, ctx: ServiceContext) -> Outcome:
        host = self._find(api, ctx)
        if host is not None:  # an earlier attempt made it: wait for it, make nothing new
            host = self._wait_settled(api, host)
            return self._done(api, int(host["id"]))
        cfg = self.cfg
        body: dict[str, Any] = {
            "name": self._name(ctx.service_id),
            "cluster": cfg.cluster,
            "account": self._ensure_account(api, ctx.client_id),
            "os": self._os_id(api, str(ctx.parameters.get(cfg.os_parameter) or cfg.default_os)),
            "password": _password(),
            "ipv4_number": cfg.ipv4_number,
            "comment": str(ctx.payload.get("note", "")),
        }
        if cfg.node:
            body["node"] = cfg.node
        if cfg.ipv4_pool:
            body["ipv4_pool"] = [cfg.ipv4_pool]
        if cfg.preset:
            body["preset"] = cfg.preset
        else:
            sizes = self.sizes(ctx.addon_values)
            body.update(cpu_number=sizes.cpu_number, ram_mib=sizes.ram_mib, hdd_mib=sizes.disk_mib)
        answer = api.post("/vm/v3/host", body)
        secret = encrypt_secrets({"password": body["password"]})
        self._await(api, answer, vm_id=answer.get("id"), password_encrypted=secret)
        return self._done(api, int(answer["id"]), password_encrypted=secret)

    def _power(self, api: VmmClient, host: Host, action: str, *, force: bool = False) -> None:
        self._await(api, api.post(f"/vm/v3/host/{host['id']}/{action}", {"force": force}))

    def suspend(self, ctx: ServiceContext) -> Outcome:
        def work(api: VmmClient, host: Host) -> Outcome:
            if host["state"] != "stopped":
                self._power(api, host, "stop", force=self.cfg.suspend_force)
            return self._done(api, int(host["id"]))

        return self._with_host(ctx, work)

    def resume(self, ctx: ServiceContext) -> Outcome:
        return self._with_host(ctx, self._start)

    def _start(self, api: VmmClient, host: Host) -> Outcome:
        if host["state"] != "active":
            self._power(api, host, "start")
        return self._done(api, int(host["id"]))

    def close(self, ctx: ServiceContext) -> Outcome:
        def work(api: VmmClient) -> Outcome:
            host = self._find(api, ctx)
            if host is None:
                return Outcome.succeeded(state="absent", found=False)
            if host["state"] != "deleting":
                host = self._wait_settled(api, host)
                self._await(api, api.delete(f"/vm/v3/host/{host['id']}"), vm_id=host["id"])
            elif self._host(api, int(host["id"])) is not None:
                return Outcome.pending(message="the VM is being deleted", retry_after=5.0)
            return Outcome.succeeded(state="absent", found=True, vm_id=host["id"])

        return self._run(work)

    def set_param(self, ctx: ServiceContext) -> Outcome:
        return self._with_host(ctx, lambda api, host: self._set_param(api, host, ctx))

    def _set_param(self, api: VmmClient, host: Host, ctx: ServiceContext) -> Outcome:
        if self.cfg.preset:
            return self._done(api, int(host["id"]), applied={"resources": "preset"})
        target = self.sizes(ctx.addon_values)
        disks = api.get_list(f"/vm/v3/host/{host['id']}/disk")
        disk = min(disks, key=lambda d: d.get("boot_order", 0)) if disks else None
        if disk is not None and target.disk_mib < int(disk["size_mib"]):
            message = f"the disk is {disk['size_mib']} MiB; it can only grow"
            return Outcome.failed(code="disk_shrink_unsupported", message=message)
        applied = {"resources": "unchanged", "disk": "unchanged"}
        cpu, ram = int(host["cpu_number"]), int(host["ram_mib"])
        if (target.cpu_number, target.ram_mib) != (cpu, ram):
            running = host["state"] == "active"
            hot = running and hot_resizable(cpu, ram, target.cpu_number, target.ram_mib)
            body = {"cpu_number": target.cpu_number, "ram_mib": target.ram_mib}
            self._await(api, api.post(f"/vm/v3/host/{host['id']}/resource", body))
            if running and not hot:
                self._power(api, host, "restart")
            applied["resources"] = "hot" if hot else ("reboot" if running else "stopped")
        if disk is not None and target.disk_mib > int(disk["size_mib"]):
            self._await(api, api.post(f"/vm/v3/disk/{disk['id']}", {"size_mib": target.disk_mib}))
            applied["disk"] = "grown"
        return self._done(api, int(host["id"]), applied=applied)

    def prolong(self, ctx: ServiceContext) -> Outcome:
        return Outcome.succeeded(message="VMmanager 6: nothing to extend")

    def stat(self, ctx: ServiceContext, day: date) -> Outcome:
        return Outcome.failed(code="unsupported", message="VMmanager 6 statistics are not read")

    def discover(self) -> Outcome:
        def work(api: VmmClient) -> Outcome:
            return Outcome.succeeded(
                objects=[self.describe(h) for h in api.get_list("/vm/v3/host")]
            )

        return self._run(work)

    def describe(self, host: Host) -> dict[str, Any]:
        """A host as discovery sees it; ``service_id`` from Billow's name pattern."""
        name = str(host.get("name", ""))
        suffix = name.removeprefix(self.cfg.name_prefix)
        ours = name != suffix and suffix.isdigit()
        return {
            "external_id": str(host["id"]),
            "name": name,
            "state": str(host.get("state", "")),
            "service_id": int(suffix) if ours else None,
            "instance_id": self.instance_id if ours else None,
            "billow": ours,
            "account": (host.get("account") or {}).get("email", ""),
        }

    # -- sync ------------------------------------------------------------------------------------

    def sync(self, ctx: ServiceContext) -> Outcome:
        return self._run(lambda api: self._sync(api, ctx))

    def _sync(self, api: VmmClient, ctx: ServiceContext) -> Outcome:
        checked = ctx.checked_operation or ctx.operation
        host = self._find(api, ctx)
        if host is None:
            if checked == "close":
                return Outcome.succeeded(state="absent")
            return Outcome.failed(code="not_applied", message="no VM")
        state = str(host["state"])
        if checked == "close":
            return _later(state) if state == "deleting" else _not_applied(state)
        if state in FAILED_STATES:
            return Outcome.failed(code="vm_failed", message=f"the VM is {state}")
        if state not in SETTLED:
            return _later(state)
        host_id = int(host["id"])
        wanted_state = {
            "suspend": "stopped",
            "stop": "stopped",
            "force_stop": "stopped",
            "resume": "active",
            "start": "active",
        }.get(checked)
        if checked in ("open", "recreate", "link", "prolong"):
            return self._done(api, host_id)
        if wanted_state:
            return self._done(api, host_id) if state == wanted_state else _not_applied(state)
        if checked == "set_note":
            same = host.get("comment", "") == str(ctx.payload.get("note", ""))
            return self._done(api, host_id) if same else _not_applied(state)
        if checked == "set_param":
            target = self.sizes(ctx.addon_values)
            disk = int((host.get("disk") or {}).get("disk_mib") or 0)
            same = (int(host["cpu_number"]), int(host["ram_mib"])) == (
                target.cpu_number,
                target.ram_mib,
            )
            done = self.cfg.preset or (same and disk >= target.disk_mib)
            return self._done(api, host_id) if done else _not_applied(state)
        return self._sync_by_history(api, host_id, checked)

    def _sync_by_history(self, api: VmmClient, host_id: int, checked: str) -> Outcome:
        """Operations that leave no state behind (reboot, password, reinstall): the newest
        task of their kind in the host's history."""
        task_name = TASK_OF.get(checked)
        tasks = [
            t for t in api.get_list(f"/vm/v3/host/{host_id}/history") if t.get("name") == task_name
        ]
        if not task_name or not tasks:
            return Outcome.failed(code="not_applied", message=f"no {task_name or checked} task")
        status = max(tasks, key=lambda t: int(t["id"])).get("status")
        if status == "complete":
            return self._done(api, host_id)
        if status == "failed":
            return Outcome.failed(code="not_applied", message=f"the {task_name} task failed")
        return _later(str(status))

    # -- VM actions ------------------------------------------------------------------------------

    def action(self, name: str, ctx: ServiceContext) -> Outcome:
        if name not in self.actions:
            return super().action(name, ctx)
        if name == "recreate":
            return self.open(ctx)
        handler: Callable[[VmmClient, Host, ServiceContext], Outcome] = getattr(
            self, f"_act_{name}"
        )
        return self._with_host(ctx, lambda api, host: handler(api, host, ctx))

    def _act_start(self, api: VmmClient, host: Host, ctx: ServiceContext) -> Outcome:
        return self._start(api, host)

    def _act_stop(self, api: VmmClient, host: Host, ctx: ServiceContext) -> Outcome:
        if host["state"] != "stopped":
            self._power(api, host, "stop", force=False)
        return self._done(api, int(host["id"]))

    def _act_force_stop(self, api: VmmClient, host: Host, ctx: ServiceContext) -> Outcome:
        if host["state"] != "stopped":
            self._power(api, host, "stop", force=True)
        return self._done(api, int(host["id"]))

    def _act_reboot(self, api: VmmClient, host: Host, ctx: ServiceContext) -> Outcome:
        return self._restart(api, host, force=False)

    def _act_reset(self, api: VmmClient, host: Host, ctx: ServiceContext) -> Outcome:
        return self._restart(api, host, force=True)

    def _restart(self, api: VmmClient, host: Host, *, force: bool) -> Outcome:
        if host["state"] != "active":
            return Outcome.failed(code="vm_not_running", message=f"the VM is {host['state']}")
        self._power(api, host, "restart", force=force)
        return self._done(api, int(host["id"]))

    def _act_set_note(self, api: VmmClient, host: Host, ctx: ServiceContext) -> Outcome:
        api.post(f"/vm/v3/host/{host['id']}", {"comment": str(ctx.payload.get("note", ""))})
        return self._done(api, int(host["id"]))

    def _act_change_password(self, api: VmmClient, host: Host, ctx: ServiceContext) -> Outcome:
        """The password travels encrypted in the payload; VMmanager sets it (no agent needed
        on our side)."""
        token = str(ctx.payload.get("password_encrypted", ""))
        password = decrypt_secrets(token).get("password", "")
        self._await(api, api.post(f"/vm/v3/host/{host['id']}/password", {"password": password}))
        return self._done(api, int(host["id"]))

    def _act_reinstall(self, api: VmmClient, host: Host, ctx: ServiceContext) -> Outcome:
        """Payload: ``os`` (an OS parameter value; default the service's), optional
        ``password_encrypted`` (else a new one is made and returned encrypted)."""
        intname = str(ctx.payload.get("os") or ctx.parameters.get(self.cfg.os_parameter) or "")
        os_id = self._os_id(api, intname)
        token = str(ctx.payload.get("password_encrypted", ""))
        password = decrypt_secrets(token).get("password", "") if token else _password()
        body = {"os": os_id, "password": password, "send_email_mode": "default"}
        self._await(api, api.post(f"/vm/v3/host/{host['id']}/reinstall", body))
        secret = encrypt_secrets({"password": password})
        return self._done(api, int(host["id"]), os_intname=intname, password_encrypted=secret)

    def _act_link(self, api: VmmClient, host: Host, ctx: ServiceContext) -> Outcome:
        """An adopted VM moves to the client's VMmanager user."""
        account = self._ensure_account(api, ctx.client_id)
        if (host.get("account") or {}).get("id") != account:
            api.post(f"/vm/v3/host/{host['id']}/account", {"account": account})
        return self._done(api, int(host["id"]))


def hot_resizable(cpu: int, ram_mib: int, new_cpu: int, new_ram_mib: int) -> bool:
    """VMmanager changes a running VM without a reboot only when CPU and RAM do not go down
    and RAM grows in whole 1024 MiB steps."""
    return (
        new_cpu >= cpu
        and new_ram_mib >= ram_mib
        and (new_ram_mib - ram_mib) % HOT_RAM_STEP_MIB == 0
    )


def _later(state: str) -> Outcome:
    return Outcome.pending(message=f"the VM is {state}", retry_after=5.0)


def _not_applied(state: str) -> Outcome:
    return Outcome.failed(code="not_applied", message=f"the VM is {state}", state=state)


def _password() -> str:
    """A root / account password VMmanager accepts (letters and digits, 16 characters)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(16))
