"""The HTTP client of a VMmanager 6 installation: auth v4 tokens, JSON calls, error mapping.

One ``requests.Session`` and one token per (url, admin email) are kept per process; a call
answered 401 / code 3001 (token expired or revoked) logs in again once and repeats. Transport
failures (connection refused, timeouts) and HTTP 5xx -- 503 is what an idle-suspended or
starting instance answers -- raise ``RetryableError``: the runner retries with backoff.
VMmanager's refusals (``{"error": {"code", "msg"}}`` with a 4xx) raise :class:`VmmRefused`,
which the module turns into a ``failed`` outcome.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import requests

from billow.core.errors import BillowError, RetryableError

UNAUTHORIZED = 3001
_lock = threading.Lock()
_sessions: dict[tuple[str, str], _Session] = {}


class VmmRefused(BillowError):
    """VMmanager answered a 4xx with its error object."""

    code = "vmmanager_error"
    http_status = 502

    def __init__(self, message: str, *, vmm_code: int | None, http: int, code: str = "") -> None:
        super().__init__(message, code=code or None, vmm_code=vmm_code, http=http)
        self.vmm_code, self.http = vmm_code, http


@dataclass
class _Session:
    http: requests.Session
    token: str = ""


def reset_sessions() -> None:
    """Forget every kept session and token (tests)."""
    with _lock:
        for kept in _sessions.values():
            kept.http.close()
        _sessions.clear()


class VmmClient:
    def __init__(self, url: str, email: str, password: str, *, timeout: float, verify: bool):
        self.url, self.email, self.password = url.rstrip("/"), email, password
        self.timeout, self.verify = timeout, verify
        with _lock:
            self._kept = _sessions.setdefault((self.url, email), _Session(requests.Session()))

    # -- calls -----------------------------------------------------------------------------

    def get(self, path: str, **where: Any) -> Any:
        params = {"where": " AND ".join(f"{k} EQ {_quote(v)}" for k, v in where.items())}
        return self.call("GET", path, params=params if where else None)

    def get_list(self, path: str, **where: Any) -> list[dict[str, Any]]:
        return list(self.get(path, **where).get("list", []))

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.call("POST", path, body=body or {})

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)

    def call(
        self, method: str, path: str, *, body: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        for attempt in (1, 2):
            token = self._kept.token or self.login()
            response = self._send(method, path, body, params, token)
            expired = response.status_code == 401 and _error(response)[0] == UNAUTHORIZED
            if expired and attempt == 1:
                self._kept.token = ""  # expired or revoked: log in again once
                continue
            return _result(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def login(self) -> str:
        """``POST /auth/v4/public/token``; the token is kept for the next calls."""
        body = {"email": self.email, "password": self.password}
        response = self._send("POST", "/auth/v4/public/token", body, None, "")
        if response.status_code in (400, 401, 403):
            code, msg = _error(response)
            raise VmmRefused(
                f"VMmanager login as {self.email} refused: {msg}",
                vmm_code=code,
                http=response.status_code,
                code="vmmanager_login_failed",
            )
        token = str(_result(response).get("token") or "")
        if not token:
            raise RetryableError("VMmanager login answered no token", code="vmmanager_bad_reply")
        self._kept.token = token
        return token

    def _send(
        self, method: str, path: str, body: Any, params: dict[str, str] | None, token: str
    ) -> requests.Response:
        headers = {"Accept": "application/json"}
        if token:
            headers["x-xsrf-token"] = token
        try:
            return self._kept.http.request(
                method,
                self.url + path,
                json=body,
                params=params,
                headers=headers,
                timeout=self.timeout,
                verify=self.verify,
            )
        except requests.RequestException as exc:
            raise RetryableError(
                f"VMmanager {self.url}: {type(exc).__name__}: {exc}", code="vmmanager_unreachable"
            ) from None


def _quote(value: Any) -> str:
    return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "") + "'"


def _error(response: requests.Response) -> tuple[int | None, str]:
    try:
        err = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None, response.text[:200]
    code = err.get("code")
    return (code if isinstance(code, int) else None), str(err.get("msg") or response.reason)


def _result(response: requests.Response) -> Any:
    if response.status_code >= 500:
        code, msg = _error(response)
        raise RetryableError(
            f"VMmanager answered {response.status_code}: {msg}", code="vmmanager_unavailable"
        )
    if response.status_code >= 400:
        code, msg = _error(response)
        raise VmmRefused(msg, vmm_code=code, http=response.status_code)
    try:
        return response.json()
    except ValueError:
        raise RetryableError(
            f"VMmanager answered {response.status_code} without JSON", code="vmmanager_bad_reply"
        ) from None
