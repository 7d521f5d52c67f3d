"""A local VMmanager 6 server for tests and demos (reference §3.1), stdlib only.

It implements the endpoints the ``vmmanager6`` module calls with the documented shapes: JSON
bodies, lists as ``{"list": [...]}``, ``where=<field>+EQ+<value>`` filters, creates answering
``{"id", "task"}``, tasks ``running`` -> ``complete`` / ``failed``, errors as
``{"error": {"code", "msg"}}``, HTTP 503 while the instance is idle-suspended or starting, and
auth v4 tokens (``POST /auth/v4/public/token``, sent back as ``x-xsrf-token`` or the ``ses6``
cookie) that expire. Where the documentation names no value we chose one and say so here:
error codes 3001 (unauthorized, HTTP 401), 3004 (bad login, HTTP 401), 1001 (invalid
parameters, HTTP 400), 1002 (not found, HTTP 404), 1003 (wrong state, HTTP 409); host states
``creating``, ``active``, ``stopped``, ``starting``, ``stopping``, ``restarting``,
``deleting``, ``reinstalling``, ``changing_resource``.

A task finishes after ``task_polls`` reads of it (``GET /vm/v3/task/<id>``); its effect on the
host applies then. ``finish_tasks()`` finishes every running task at once (a test that lets
time pass). Start with :func:`serve` (a free port on 127.0.0.1, a daemon thread).
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Json = dict[str, Any]
UNAUTHORIZED, BAD_LOGIN, INVALID, NOT_FOUND, WRONG_STATE = 3001, 3004, 1001, 1002, 1003


class ApiError(Exception):
    def __init__(self, http: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.http, self.code, self.msg = http, code, msg


@dataclass
class Task:
    id: int
    name: str
    host_id: int | None
    polls_left: int
    effect: Callable[[], None]
    status: str = "running"
    fail: str = ""


@dataclass
class VmmState:
    """Everything the server knows; tests read and poke it (under ``lock``)."""

    admin_email: str = "admin@example.com"
    admin_password: str = "secret"  # noqa: S105 - the local server's own login
    token_ttl_s: float = 3600.0
    task_polls: int = 1
    idle: bool = False
    starting_requests: int = 0  # answer 503 to this many requests, then work (instance waking)
    ip_prefix: str = "203.0.113."
    os_list: list[Json] = field(
        default_factory=lambda: [
            {"id": 1, "name": "Debian 12", "repository": {"id": 1, "name": "ISPsystem"}},
            {"id": 2, "name": "Ubuntu 24.04", "repository": {"id": 1, "name": "ISPsystem"}},
            {"id": 3, "name": "AlmaLinux 9", "repository": {"id": 2, "name": "local"}},
        ]
    )
    presets: dict[int, Json] = field(
        default_factory=lambda: {
            7: {"name": "small", "cpu_number": 1, "ram_mib": 1024, "hdd_mib": 10240}
        }
    )
    tokens: dict[str, float] = field(default_factory=dict)
    accounts: dict[int, Json] = field(default_factory=dict)
    hosts: dict[int, Json] = field(default_factory=dict)
    disks: dict[int, Json] = field(default_factory=dict)
    tasks: dict[int, Task] = field(default_factory=dict)
    passwords: dict[int, str] = field(default_factory=dict)  # host id -> root password
    calls: list[tuple[str, str, Json]] = field(default_factory=list)
    fail_tasks: set[str] = field(default_factory=set)  # task names that end ``failed``
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> int:
        return next(self._ids)

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = {t: 0.0 for t in self.tokens}

    def finish_tasks(self) -> None:
        with self.lock:
            for task in list(self.tasks.values()):
                if task.status == "running":
                    self._finish(task)

    def actions_of(self, host_id: int) -> list[str]:
        """Names of the tasks run on a host, in order (``host_start``, ``host_restart`` ...)."""
        with self.lock:
            return [t.name for t in self.tasks.values() if t.host_id == host_id]

    # -- internals -------------------------------------------------------------------------

    def _finish(self, task: Task) -> None:
        if task.name in self.fail_tasks:
            task.status, task.fail = "failed", f"{task.name} failed"
            host = self.hosts.get(task.host_id or 0)
            if host is not None and host["state"] not in ("active", "stopped"):
                host["state"] = "active" if task.name != "host_create" else "creating_failed"
            return
        task.effect()
        task.status = "complete"

    def task(self, name: str, host_id: int | None, effect: Callable[[], None]) -> int:
        task = Task(self.next_id(), name, host_id, self.task_polls, effect)
        self.tasks[task.id] = task
        if task.polls_left <= 0:
            self._finish(task)
        return task.id


class Api:
    """The routes. Each handler gets the state, path ids and the body; returns JSON."""

    def __init__(self, state: VmmState) -> None:
        self.s = state

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Json, token: str
    ) -> Json:
        s = self.s
        if s.idle:
            raise ApiError(503, 503, "instance is suspended")
        if s.starting_requests > 0:
            s.starting_requests -= 1
            raise ApiError(503, 503, "instance is starting")
        parts = [p for p in path.split("/") if p]
        if parts[:3] == ["auth", "v4", "public"] and parts[3:] == ["token"] and method == "POST":
            return self.login(body)
        self.authorize(token)
        if parts[:2] != ["vm", "v3"] or len(parts) < 3:
            raise ApiError(404, NOT_FOUND, f"no route {path}")
        kind, rest = parts[2], parts[3:]
        where = _where(query)
        if kind == "account":
            if method == "GET":
                return {"list": _filter(s.accounts.values(), where)}
            if method == "POST":
                return self.create_account(body)
        if kind == "os" and method == "GET":
            return {"list": _filter(s.os_list, where)}
        if kind == "task":
            if rest and method == "GET":
                return self.get_task(_int(rest[0]))
            if method == "GET":
                tasks = [self._task_json(t) for t in s.tasks.values()]
                return {"list": _filter(tasks, where)}
        if kind == "disk" and len(rest) == 1 and method == "POST":
            return self.resize_disk(_int(rest[0]), body)
        if kind == "host":
            return self.host_route(method, rest, where, body)
        raise ApiError(404, NOT_FOUND, f"no route {method} {path}")

    # -- auth ------------------------------------------------------------------------------

    def login(self, body: Json) -> Json:
        if (body.get("email"), body.get("password")) != (self.s.admin_email, self.s.admin_password):
            raise ApiError(401, BAD_LOGIN, "invalid email or password")
        token = secrets.token_hex(16)
        self.s.tokens[token] = time.monotonic() + self.s.token_ttl_s
        return {"id": token[:8], "token": token, "expires_in": int(self.s.token_ttl_s)}

    def authorize(self, token: str) -> None:
        expires = self.s.tokens.get(token)
        if expires is None or expires <= time.monotonic():
            raise ApiError(401, UNAUTHORIZED, "Unauthorized")

    # -- accounts --------------------------------------------------------------------------

    def create_account(self, body: Json) -> Json:
        email = str(body.get("email") or "")
        if "@" not in email or not body.get("password"):
            raise ApiError(400, INVALID, "email and password are required")
        if any(a["email"] == email for a in self.s.accounts.values()):
            raise ApiError(409, WRONG_STATE, f"account {email} exists")
        account_id = self.s.next_id()
        role = str(body.get("role") or "@user")
        self.s.accounts[account_id] = {
            "id": account_id,
            "email": email,
            "state": "active",
            "roles": [role],
        }
        return {"id": account_id}

    # -- tasks -----------------------------------------------------------------------------

    def get_task(self, task_id: int) -> Json:
        task = self.s.tasks.get(task_id)
        if task is None:
            raise ApiError(404, NOT_FOUND, f"task {task_id} not found")
        if task.status == "running":
            task.polls_left -= 1
            if task.polls_left <= 0:
                self.s._finish(task)
        return self._task_json(task)

    def _task_json(self, task: Task) -> Json:
        out: Json = {"id": task.id, "consul_id": task.id, "name": task.name, "status": task.status}
        out["host"] = {"id": task.host_id} if task.host_id else None
        if task.fail:
            out["output"] = task.fail
        return out

    # -- hosts -----------------------------------------------------------------------------

    def host_route(
        self, method: str, rest: list[str], where: list[tuple[str, str]], body: Json
    ) -> Json:
        s = self.s
        if not rest:
            if method == "GET":
                return {"list": _filter([self._host_json(h) for h in s.hosts.values()], where)}
            if method == "POST":
                return self.create_host(body)
            raise ApiError(405, INVALID, "method not allowed")
        host = s.hosts.get(_int(rest[0]))
        if host is None:
            raise ApiError(404, NOT_FOUND, f"host {rest[0]} not found")
        action = rest[1] if len(rest) > 1 else ""
        if method == "GET" and not action:
            return self._host_json(host)
        if method == "GET" and action == "ipv4":
            return {"list": [{"id": i + 1, "ip_addr": ip} for i, ip in enumerate(host["ips"])]}
        if method == "GET" and action == "disk":
            return {"list": [s.disks[d] for d in host["disks"]]}
        if method == "GET" and action == "history":
            return {
                "list": [self._task_json(t) for t in s.tasks.values() if t.host_id == host["id"]]
            }
        if method == "DELETE" and not action:
            return self.delete_host(host)
        if method != "POST":
            raise ApiError(405, INVALID, "method not allowed")
        if not action:
            for name in ("name", "comment"):
                if name in body:
                    host[name] = str(body[name])
            return {"id": host["id"]}
        handler = {
            "start": self.power,
            "stop": self.power,
            "restart": self.power,
            "resource": self.change_resources,
            "password": self.change_password,
            "reinstall": self.reinstall,
        }.get(action)
        if handler is None:
            raise ApiError(404, NOT_FOUND, f"no action {action}")
        self._require_settled(host)
        return handler(host, action, body)

    def _require_settled(self, host: Json) -> None:
        if host["state"] not in ("active", "stopped"):
            raise ApiError(409, WRONG_STATE, f"host is {host['state']}")

    def create_host(self, body: Json) -> Json:
        s = self.s
        for name in ("name", "cluster", "os", "password", "account"):
            if body.get(name) in (None, ""):
                raise ApiError(400, INVALID, f"{name} is required")
        account = s.accounts.get(_int(body["account"]))
        if account is None:
            raise ApiError(400, INVALID, f"no account {body['account']}")
        os = next((o for o in s.os_list if o["id"] == body["os"]), None)
        if os is None:
            raise ApiError(400, INVALID, f"no os {body['os']}")
        if body.get("preset"):
            preset = s.presets.get(_int(body["preset"]))
            if preset is None:
                raise ApiError(400, INVALID, f"no preset {body['preset']}")
            sizes = {k: preset[k] for k in ("cpu_number", "ram_mib", "hdd_mib")}
        else:
            sizes = {}
            for name in ("cpu_number", "ram_mib", "hdd_mib"):
                value = body.get(name)
                if not isinstance(value, int) or value < 1:
                    raise ApiError(400, INVALID, f"{name} must be a positive integer")
                sizes[name] = value
        host_id = s.next_id()
        disk_id = s.next_id()
        s.disks[disk_id] = {"id": disk_id, "size_mib": sizes["hdd_mib"], "boot_order": 1}
        ips = [
            f"{s.ip_prefix}{host_id % 250 + 2 + i}" for i in range(int(body.get("ipv4_number", 1)))
        ]
        s.hosts[host_id] = {
            "id": host_id,
            "name": str(body["name"]),
            "state": "creating",
            "comment": str(body.get("comment") or ""),
            "cpu_number": sizes["cpu_number"],
            "ram_mib": sizes["ram_mib"],
            "disks": [disk_id],
            "account": {"id": account["id"], "email": account["email"]},
            "os": {"id": os["id"], "name": os["name"]},
            "ips": ips,
            "cluster": {"id": body["cluster"]},
            "node": {"id": body.get("node") or 1},
        }
        s.passwords[host_id] = str(body["password"])

        def created() -> None:
            s.hosts[host_id]["state"] = "active"

        return {"id": host_id, "task": s.task("host_create", host_id, created)}

    def delete_host(self, host: Json) -> Json:
        s = self.s
        if host["state"] == "deleting":
            raise ApiError(409, WRONG_STATE, "host is being deleted")
        host["state"] = "deleting"

        def deleted() -> None:
            for disk_id in host["disks"]:
                s.disks.pop(disk_id, None)
            s.hosts.pop(host["id"], None)

        return {"task": s.task("host_delete", host["id"], deleted)}

    def power(self, host: Json, action: str, body: Json) -> Json:
        force = bool(body.get("force", False))
        target = "stopped" if action == "stop" else "active"
        if action == "restart" and host["state"] != "active":
            raise ApiError(409, WRONG_STATE, "host is not running")
        host["state"] = {"start": "starting", "stop": "stopping", "restart": "restarting"}[action]

        def done() -> None:
            host["state"] = target

        name = f"host_{action}" + ("_force" if force else "")
        return {"task": self.s.task(name, host["id"], done)}

    def change_resources(self, host: Json, action: str, body: Json) -> Json:
        changes = {k: body[k] for k in ("cpu_number", "ram_mib") if k in body}
        for name, value in changes.items():
            if not isinstance(value, int) or value < 1:
                raise ApiError(400, INVALID, f"{name} must be a positive integer")
        before = host["state"]
        host["state"] = "changing_resource"

        def done() -> None:
            host.update(changes)
            host["state"] = before

        return {"task": self.s.task("host_resource", host["id"], done)}

    def resize_disk(self, disk_id: int, body: Json) -> Json:
        disk = self.s.disks.get(disk_id)
        if disk is None:
            raise ApiError(404, NOT_FOUND, f"disk {disk_id} not found")
        size = body.get("size_mib")
        if not isinstance(size, int) or size < disk["size_mib"]:
            raise ApiError(400, INVALID, "size_mib must be an integer not below the current size")
        host_id = next((h["id"] for h in self.s.hosts.values() if disk_id in h["disks"]), None)

        def done() -> None:
            disk["size_mib"] = size

        return {"task": self.s.task("disk_resize", host_id, done)}

    def change_password(self, host: Json, action: str, body: Json) -> Json:
        password = str(body.get("password") or "")
        if len(password) < 6:
            raise ApiError(400, INVALID, "password is too short")

        def done() -> None:
            self.s.passwords[host["id"]] = password

        return {"task": self.s.task("host_password", host["id"], done)}

    def reinstall(self, host: Json, action: str, body: Json) -> Json:
        os = next((o for o in self.s.os_list if o["id"] == body.get("os")), None)
        if os is None or not body.get("password"):
            raise ApiError(400, INVALID, "os and password are required")
        before = host["state"]
        host["state"] = "reinstalling"

        def done() -> None:
            host["os"] = {"id": os["id"], "name": os["name"]}
            self.s.passwords[host["id"]] = str(body["password"])
            host["state"] = "active" if before == "active" else before

        return {"task": self.s.task("host_reinstall", host["id"], done)}

    def _host_json(self, host: Json) -> Json:
        out = {k: v for k, v in host.items() if k not in ("disks", "ips")}
        out["disk"] = {
            "disk_mib": sum(self.s.disks[d]["size_mib"] for d in host["disks"] if d in self.s.disks)
        }
        out["ip4"] = [{"ip": ip} for ip in host["ips"]]
        out.update(iso_mounted=False, snapshot_count=0, balancer_mode="off")
        return out


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, INVALID, f"{value!r} is not an id") from None


def _where(query: dict[str, list[str]]) -> list[tuple[str, str]]:
    """``where=name EQ 'x' AND id EQ 5`` -> [(name, x), (id, 5)] (only EQ is served)."""
    out = []
    for clause in " ".join(query.get("where", [])).split(" AND "):
        if not clause.strip():
            continue
        name, op, value = ([*clause.strip().split(" ", 2), "", ""])[:3]
        if op != "EQ":
            raise ApiError(400, INVALID, f"unsupported filter {clause!r}")
        out.append((name, value.strip("'\"")))
    return out


def _filter(items: Any, where: list[tuple[str, str]]) -> list[Json]:
    def value(item: Json, name: str) -> str:
        got: Any = item
        for part in name.split("."):
            got = got.get(part) if isinstance(got, dict) else None
        return "" if got is None else str(got)

    return [dict(i) for i in items if all(value(i, n) == v for n, v in where)]


class _Handler(BaseHTTPRequestHandler):
    api: Api

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        token = self.headers.get("x-xsrf-token") or _cookie(self.headers.get("Cookie", ""), "ses6")
        state = self.api.s
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ApiError(400, INVALID, "the body must be a JSON object")
            with state.lock:
                state.calls.append((method, url.path, body))
                status, out = (
                    200,
                    self.api.handle(method, url.path, parse_qs(url.query), body, token),
                )
        except json.JSONDecodeError:
            status, out = 400, {"error": {"code": INVALID, "msg": "invalid JSON"}}
        except ApiError as exc:
            status, out = exc.http, {"error": {"code": exc.code, "msg": exc.msg}}
        data = json.dumps(out).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")


def _cookie(header: str, name: str) -> str:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


@dataclass
class RunningServer:
    url: str
    state: VmmState
    httpd: ThreadingHTTPServer

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def start(state: VmmState | None = None) -> RunningServer:
    """Serve on a free port of 127.0.0.1 in a daemon thread."""
    state = state or VmmState()
    handler = type("Handler", (_Handler,), {"api": Api(state)})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True, name="vmm6-testserver").start()
    port = httpd.server_address[1]
    return RunningServer(f"http://127.0.0.1:{port}", state, httpd)


@contextmanager
def serve(state: VmmState | None = None) -> Iterator[RunningServer]:
    server = start(state)
    try:
        yield server
    finally:
        server.stop()
