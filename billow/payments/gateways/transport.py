"""The HTTP seam of the gateways: a request/response pair and a swappable transport.

Adapters build ``HttpRequest`` values (pure, testable) and hand them to a transport. The default
one uses ``urllib`` with an explicit timeout; tests swap it with :func:`use_transport` (recorded
responses) so no test talks to a network. A connection error or timeout becomes
``RetryableError`` (``gateway_unreachable``): the caller records the payment as ``unknown``.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from billow.core.errors import RetryableError

DEFAULT_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        import json

        return json.loads(self.body or b"null")


Transport = Callable[[HttpRequest], HttpResponse]


def urllib_transport(request: HttpRequest) -> HttpResponse:
    """Send ``request`` over HTTPS; HTTP error statuses are responses, not exceptions."""
    if not request.url.startswith("https://"):
        raise RetryableError("gateways are reached over HTTPS only", code="gateway_insecure_url")
    req = urllib.request.Request(  # noqa: S310 - scheme checked above
        request.url,
        data=request.body or None,
        headers=dict(request.headers),
        method=request.method,
    )
    try:
        with urllib.request.urlopen(req, timeout=request.timeout) as resp:  # noqa: S310
            return HttpResponse(resp.status, resp.read(), dict(resp.headers))
    except urllib.error.HTTPError as exc:
        return HttpResponse(exc.code, exc.read(), dict(exc.headers))
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise RetryableError(f"gateway unreachable: {exc}", code="gateway_unreachable") from exc


_override: list[Transport] = []
_lock = threading.Lock()


def default_transport() -> Transport:
    """The transport adapters use unless given one: the test override, else ``urllib``."""
    return _override[-1] if _override else urllib_transport


@contextmanager
def use_transport(transport: Transport) -> Iterator[Transport]:
    """Route every adapter built inside the block through ``transport`` (tests, demos)."""
    with _lock:
        _override.append(transport)
    try:
        yield transport
    finally:
        with _lock:
            _override.remove(transport)


class RecordedTransport:
    """A transport answering from recorded responses, keyed by (method, url); keeps the calls."""

    def __init__(self, responses: Mapping[tuple[str, str], HttpResponse] | None = None) -> None:
        self.responses = dict(responses or {})
        self.calls: list[HttpRequest] = []

    def add(self, method: str, url: str, status: int, body: bytes) -> None:
        self.responses[(method, url)] = HttpResponse(status, body)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.calls.append(request)
        try:
            return self.responses[(request.method, request.url)]
        except KeyError:
            raise RetryableError(
                f"no recorded response for {request.method} {request.url}",
                code="gateway_unreachable",
            ) from None
