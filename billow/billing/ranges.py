"""The client id range a billing-run chunk covers (``lo <= client id < hi``; ``hi`` None: open)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet


def client_range(qs: QuerySet[Any], lo: int, hi: int | None, field: str = "client_id") -> Any:
    """``qs`` restricted to the chunk's clients (``field`` names the client id column)."""
    qs = qs.filter(**{f"{field}__gte": lo})
    return qs if hi is None else qs.filter(**{f"{field}__lt": hi})
