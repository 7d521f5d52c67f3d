"""A small DCImanager 6 API client (urllib): the v4 token, the three auth headers, re-login
once when the token expired, ISPsystem errors as :class:`DciError`, transport failures as
``RetryableError``. Tokens are cached per (url, email) for the process."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from billow.core.errors import BillowError, RetryableError

API = "/api/dci/v3"
_tokens: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


class DciError(BillowError):
    """DCImanager refused (4xx): ``details`` carry its ``dci_code`` and ``value``."""

    code = "dcimanager_error"


def reset_tokens() -> None:
    with _lock:
        _tokens.clear()


class DciClient:
    def __init__(self, url: str, email: str, password: str, *, timeout: float = 10.0) -> None:
        self.url, self.email, self.password, self.timeout = (
            url.rstrip("/"),
            email,
            password,
            timeout,
        )

    # -- transport ---------------------------------------------------------------------------

    def _send(self, method: str, path: str, body: Any, token: str = "") -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers |= {"Cookie": f"ses6={token}", "x-xsrf-token": token}
            headers["isp-box-instance"] = "true"
        data = None if body is None else json.dumps(body).encode()
        if not self.url.startswith(("http://", "https://")):
            raise DciError("the DCImanager URL must be http(s)", code="invalid_module_config")
        req = Request(self.url + path, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - http(s) checked
                return json.loads(resp.read() or b"{}")
        except HTTPError as exc:
            if exc.code >= 500:
                raise RetryableError(
                    f"DCImanager {exc.code} on {path}", code="transport_error"
                ) from None
            try:
                error = json.loads(exc.read()).get("error", {})
            except ValueError:
                error = {}
            raise DciError(
                str(error.get("msg") or f"HTTP {exc.code}"),
                http=exc.code,
                dci_code=error.get("code"),
                value=error.get("value"),
            ) from None
        except (URLError, TimeoutError, ConnectionError, OSError) as exc:
            raise RetryableError(f"DCImanager unreachable: {exc}", code="transport_error") from None

    def login(self) -> str:
        answer = self._send(
            "POST", "/auth/v4/public/token", {"email": self.email, "password": self.password}
        )
        token = str(answer["token"])
        with _lock:
            _tokens[(self.url, self.email)] = token
        return token

    def call(self, method: str, function: str, body: Any = None, **query: str) -> Any:
        """``method /api/dci/v3/<function>?query``; logs in when there is no token and once
        more when the panel says the token is no longer valid (401)."""
        path = f"{API}/{function}" + (f"?{urlencode(query)}" if query else "")
        with _lock:
            token = _tokens.get((self.url, self.email), "")
        if not token:
            token = self.login()
        try:
            return self._send(method, path, body, token)
        except DciError as exc:
            if exc.details.get("http") != 401:
                raise
        return self._send(method, path, body, self.login())

    # -- the functions the module uses ---------------------------------------------------------

    def servers(self, where: str = "", orderby: str = "id asc", limit: str = "") -> list[dict]:
        query = {"orderby": orderby}
        if where:
            query["where"] = where
        if limit:
            query["limit"] = limit
        return list(self.call("GET", "server", **query)["list"])

    def server(self, server_id: int) -> dict[str, Any]:
        return dict(self.call("GET", f"server/{server_id}"))

    def configurations(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "server/configuration")["list"])

    def server_op(self, server_id: int, op: str, body: dict[str, Any] | None = None) -> Any:
        return self.call("POST", f"server/{server_id}/{op}", body or {})

    def task(self, task_id: int) -> dict[str, Any]:
        return dict(self.call("GET", f"task/{task_id}"))


def quoted(value: str) -> str:
    """A string literal for ``where`` (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"
