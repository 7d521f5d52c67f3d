from __future__ import annotations

from collections.abc import Iterator

import pytest
from huey.contrib.djhuey import HUEY


@pytest.fixture
def immediate_huey() -> Iterator[object]:
    """Huey in immediate mode (in-memory storage): enqueued jobs run inline, retries with a
    delay land in the in-memory schedule where the test can inspect and run them."""
    previous = HUEY.immediate
    HUEY.immediate = True
    HUEY.flush()
    try:
        yield HUEY
    finally:
        HUEY.flush()
        HUEY.immediate = previous
