"""A local DCImanager 6 for tests and the demo (stdlib only, no Django), written from the
documentation of its API (reference §3.2):

- ``POST /auth/v4/public/token`` ``{"email", "password"}`` -> ``{"id", "token", "expires_at"}``;
  every ``/api/dci/v3`` call wants ``Cookie: ses6=<token>``, ``x-xsrf-token: <token>`` and
  ``isp-box-instance: true``; a token past its expiry gets 401 (code 1001), a wrong one too;
- ``GET /api/dci/v3/server`` with ``where`` (``(owner_email IS null) AND is_new EQ false``,
  ``configuration EQ 'x'``, ``location_id EQ 1``, ``IS NOT null``), ``orderby`` (``configuration
  asc``) and ``limit`` (``0,400``) -> ``{"list": [...], "size": n}``; ``GET .../server/<id>``;
- ``GET /api/dci/v3/server/configuration`` ->
  ``{"list": [{"configuration": "...", "free_server_count": n}]}`` (free: no owner, not new);
- ``POST /api/dci/v3/server/<id>/<op>`` with ``{}`` for ``power_on``, ``power_off``,
  ``power_reset`` -> ``{"id": <server>, "task": <task>}``;

and, where the documentation names the feature but not the path (marked "modelled"):

- ``POST .../server/<id>/owner`` ``{"email", "comment"}`` (``email`` null frees the server);
- ``POST .../server/<id>/operating_system`` ``{"os", "password"}`` -> ``{"task": n}`` (OS install);
- ``POST .../server/<id>/disk_wipe`` ``{}`` -> ``{"task": n}``;
- ``POST .../server/<id>/switch_port`` ``{"state": "on" | "off"}``;
- ``GET /api/dci/v3/task/<id>`` -> ``{"id", "name", "server_id", "status"}``; status goes
  ``created`` -> ``running`` -> ``complete`` over ``task_polls`` reads (``failed`` when told to).

Errors are ISPsystem 6's shape: ``{"error": {"code": <int>, "msg": "...", "value": ...}}`` with
HTTP 400 (bad input), 401 (no / expired token), 404 (no such object), 409 (wrong state).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API = "/api/dci/v3"
POWER_OPS = {"power_on": "on", "power_off": "off", "power_reset": "on"}
E_AUTH, E_TOKEN, E_NOT_FOUND, E_BAD_INPUT, E_STATE = 1001, 1002, 3001, 2001, 4001


class ApiError(Exception):
    def __init__(self, status: int, code: int, msg: str, value: Any = None) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg, self.value = status, code, msg, value

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.value is not None:
            error["value"] = self.value
        return {"error": error}


@dataclass
class DciState:
    """The panel's data; tests change it directly (add or delete servers, expire tokens)."""

    email: str = "admin@example.com"
    password: str = "secret"  # noqa: S105 - the local test panel's own login
    token_ttl: float = 3600.0
    task_polls: int = 2
    fail_next_task: bool = False
    servers: dict[int, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    logins: int = 0
    next_id: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock)

    def add_server(self, configuration: str, **fields: Any) -> dict[str, Any]:
        with self.lock:
            sid = fields.pop("id", None) or self.next_id
            self.next_id = max(self.next_id, sid) + 1
            server = {
                "id": sid,
                "name": fields.pop("name", f"srv{sid}"),
                "configuration": configuration,
                "location_id": fields.pop("location_id", 1),
                "owner_email": None,
                "comment": "",
                "is_new": False,
                "power_status": "on",
                "barcode": f"BC{sid:05d}",
                "rack": "A1",
                "ip": [{"name": f"192.0.2.{sid}"}],
                "os": None,
                "switch_port": "on",
                "hardware_info": {"cpu": configuration, "ram_mib": 65536, "disks": []},
                **fields,
            }
            self.servers[sid] = server
            return server

    def finish_tasks(self) -> None:
        """Every unfinished task completes now (the panel worked on while nobody polled)."""
        with self.lock:
            for task in self.tasks.values():
                if task["status"] not in ("complete", "failed"):
                    task["status"] = "failed" if task["failed"] else "complete"
                    if task["status"] == "complete" and task["then"] is not None:
                        task["then"]()

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = {t: 0.0 for t in self.tokens}

    def new_task(self, name: str, server_id: int, then: Callable[[], None] | None = None) -> int:
        tid = self.next_id
        self.next_id += 1
        failed = self.fail_next_task
        self.fail_next_task = False
        self.tasks[tid] = {
            "id": tid,
            "name": name,
            "server_id": server_id,
            "status": "created",
            "reads": 0,
            "failed": failed,
            "then": then,
        }
        return tid


# -- the where / orderby / limit filters -------------------------------------------------------

_CLAUSE = re.compile(r"^\(?\s*(\w+)\s+(IS NOT|IS|EQ|NE)\s+(.+?)\s*\)?$", re.IGNORECASE)


def _value(raw: str) -> Any:
    raw = raw.strip()
    if raw.lower() == "null":
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    if raw.lstrip("-").isdigit():
        return int(raw)
    raise ApiError(400, E_BAD_INPUT, f"bad value in where: {raw}", raw)


def _predicate(name: str, op: str, value: Any) -> Callable[[dict[str, Any]], bool]:
    def test(server: dict[str, Any]) -> bool:
        have = server.get(name)
        if op == "IS":
            return have is None
        if op == "IS NOT":
            return have is not None
        return (have == value) if op == "EQ" else (have != value)

    return test


def parse_where(where: str) -> list[Callable[[dict[str, Any]], bool]]:
    """``a IS null AND b EQ 'x' AND c NE 1`` -> one predicate per clause (AND only)."""
    preds: list[Callable[[dict[str, Any]], bool]] = []
    for clause in re.split(r"\s+AND\s+", where.strip(), flags=re.IGNORECASE):
        m = _CLAUSE.match(clause.strip())
        if not m:
            raise ApiError(400, E_BAD_INPUT, f"bad where clause: {clause}", clause)
        name, op, raw = m.group(1), m.group(2).upper(), m.group(3)
        preds.append(_predicate(name, op, _value(raw)))
    return preds


def public(server: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in server.items() if k not in ("os_password",)}


# -- the HTTP side -----------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read ``state.calls`` instead."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                raise ApiError(400, E_BAD_INPUT, "body is not JSON") from None
            with state.lock:
                state.calls.append((method, url.path))
                status, answer = route(
                    state, method, url.path, parse_qs(url.query), body, self.headers
                )
        except ApiError as exc:
            status, answer = exc.status, exc.body()
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _authorized(state: DciState, headers: Any) -> None:
    cookie = headers.get("Cookie") or ""
    m = re.search(r"(?:^|;\s*)ses6=([^;]+)", cookie)
    token = m.group(1) if m else ""
    if not token or headers.get("x-xsrf-token") != token:
        raise ApiError(401, E_TOKEN, "Unauthorized")
    if headers.get("isp-box-instance") != "true":
        raise ApiError(401, E_TOKEN, "isp-box-instance header missing")
    expires = state.tokens.get(token)
    if expires is None:
        raise ApiError(401, E_TOKEN, "Unauthorized")
    if expires <= time.time():
        raise ApiError(401, E_TOKEN, "Token expired", "ses6")


def _server(state: DciState, sid: str) -> dict[str, Any]:
    server = state.servers.get(int(sid))
    if server is None:
        raise ApiError(404, E_NOT_FOUND, f"server {sid} not found", int(sid))
    return server


def route(
    state: DciState,
    method: str,
    path: str,
    query: dict[str, list[str]],
    body: dict[str, Any],
    headers: Any,
) -> tuple[int, Any]:
    if method == "POST" and path == "/auth/v4/public/token":
        if body.get("email") != state.email or body.get("password") != state.password:
            raise ApiError(400, E_AUTH, "Invalid email or password")
        state.logins += 1
        token = f"{state.logins}-{secrets.token_hex(12)}"
        state.tokens[token] = time.time() + state.token_ttl
        return 200, {"id": token.split("-")[0], "token": token, "expires_at": state.tokens[token]}
    if not path.startswith(API + "/"):
        raise ApiError(404, E_NOT_FOUND, f"no such function {path}")
    _authorized(state, headers)
    parts = path[len(API) + 1 :].split("/")
    if method == "GET" and parts == ["server"]:
        return 200, _list_servers(state, query)
    if method == "GET" and parts == ["server", "configuration"]:
        return 200, _configurations(state)
    if method == "GET" and len(parts) == 2 and parts[0] == "server" and parts[1].isdigit():
        return 200, public(_server(state, parts[1]))
    if method == "GET" and len(parts) == 2 and parts[0] == "task" and parts[1].isdigit():
        return 200, _read_task(state, int(parts[1]))
    if method == "POST" and len(parts) == 3 and parts[0] == "server" and parts[1].isdigit():
        return 200, _server_op(state, _server(state, parts[1]), parts[2], body)
    raise ApiError(404, E_NOT_FOUND, f"no such function {path}")


def _list_servers(state: DciState, query: dict[str, list[str]]) -> dict[str, Any]:
    rows = list(state.servers.values())
    where = (query.get("where") or [""])[0]
    if where:
        preds = parse_where(where)
        rows = [s for s in rows if all(p(s) for p in preds)]
    orderby = (query.get("orderby") or ["id asc"])[0].split()
    key, desc = orderby[0], len(orderby) > 1 and orderby[1].lower() == "desc"
    rows.sort(key=lambda s: (s.get(key) is None, s.get(key) or 0, s["id"]), reverse=desc)
    size = len(rows)
    limit = (query.get("limit") or [""])[0]
    if limit:
        try:
            offset, count = (int(x) for x in limit.split(","))
        except ValueError:
            raise ApiError(400, E_BAD_INPUT, f"bad limit: {limit}", limit) from None
        rows = rows[offset : offset + count]
    return {"list": [public(s) for s in rows], "size": size}


def _configurations(state: DciState) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for s in state.servers.values():
        free = s["owner_email"] is None and not s["is_new"]
        counts[s["configuration"]] = counts.get(s["configuration"], 0) + int(free)
    return {
        "list": [{"configuration": c, "free_server_count": n} for c, n in sorted(counts.items())]
    }


def _read_task(state: DciState, tid: int) -> dict[str, Any]:
    task = state.tasks.get(tid)
    if task is None:
        raise ApiError(404, E_NOT_FOUND, f"task {tid} not found", tid)
    if task["status"] not in ("complete", "failed"):
        task["reads"] += 1
        if task["reads"] >= state.task_polls:
            task["status"] = "failed" if task["failed"] else "complete"
            if task["status"] == "complete" and task["then"] is not None:
                task["then"]()
        else:
            task["status"] = "running"
    return {k: task[k] for k in ("id", "name", "server_id", "status")}


def _server_op(
    state: DciState, server: dict[str, Any], op: str, body: dict[str, Any]
) -> dict[str, Any]:
    sid = server["id"]
    if op in POWER_OPS:
        server["power_status"] = POWER_OPS[op]
        return {"id": sid, "task": state.new_task(op, sid)}
    if op == "owner":
        email = body.get("email")
        if email is not None and not isinstance(email, str):
            raise ApiError(400, E_BAD_INPUT, "email must be a string or null", "email")
        server["owner_email"], server["comment"] = email, str(body.get("comment") or "")
        return {"id": sid}
    if op == "switch_port":
        if body.get("state") not in ("on", "off"):
            raise ApiError(400, E_BAD_INPUT, "state must be on or off", "state")
        server["switch_port"] = body["state"]
        return {"id": sid}
    if op == "operating_system":
        if not body.get("os") or not body.get("password"):
            raise ApiError(400, E_BAD_INPUT, "os and password are required", "os")
        if server["owner_email"] is None:
            raise ApiError(409, E_STATE, "server has no owner", sid)
        os_name = str(body["os"])

        def installed() -> None:
            server["os"] = os_name

        return {"id": sid, "task": state.new_task("os_install", sid, installed)}
    if op == "disk_wipe":

        def wiped() -> None:
            server["os"] = None

        return {"id": sid, "task": state.new_task("disk_wipe", sid, wiped)}
    raise ApiError(404, E_NOT_FOUND, f"no such operation {op}", op)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: DciState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class LocalDci:
    """``with LocalDci() as dci: dci.url, dci.state`` -- one local panel on a free port."""

    def __init__(self, state: DciState | None = None) -> None:
        self.state = state or DciState()
        self._httpd = _Server(self.state)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LocalDci:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
