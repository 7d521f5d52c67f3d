"""``/healthz``: the process answers (liveness; touches nothing). ``/readyz``: the database and
the job queue answer (readiness; a load balancer stops sending requests to a node that fails
it, e.g. one that lost its database). Both are plain JSON, without login or session."""

from __future__ import annotations

import logging
from typing import Any

from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("billow.ops")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database(alias: str = "default") -> str | None:
    """None when ``SELECT 1`` works on ``alias``, else the error."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # readiness reports any failure, whatever its kind
        return f"{type(exc).__name__}: {exc}"
    return None


def check_queue() -> str | None:
    """None when the job queue answers (Redis ``PING``, or the embedded queue's file)."""
    from huey.contrib.djhuey import HUEY

    try:
        conn: Any = getattr(HUEY.storage, "conn", None)
        if conn is not None and hasattr(conn, "ping"):
            conn.ping()
        else:
            HUEY.pending_count()
    except Exception as exc:  # readiness reports any failure, whatever its kind
        return f"{type(exc).__name__}: {exc}"
    return None


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": check_database(), "queue": check_queue()}
    ready = all(error is None for error in checks.values())
    if not ready:
        logger.warning("not ready: %s", {k: v for k, v in checks.items() if v})
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: error or "ok" for name, error in checks.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)
