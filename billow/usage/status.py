"""Resource status hook, called by ingestion (h3) and filled in by rating/status (h4).

``refresh`` is called once per ingested batch, after the batch's rollups committed, with every
(service, meter) whose daily or monthly usage changed. Stub until h4 fills it in: it must stay
cheap when ``changes`` is empty and must not assume it runs inside a transaction. On
PostgreSQL it may run on ingestion's writer thread (with that thread's own connection).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime


def refresh(*, changes: Collection[tuple[int, int]], now: datetime) -> None:
    """Recompute normal / approaching / exceeded for ``changes`` = ``{(service_id, meter_id)}``."""
    return None
