"""Ordering through the checkout in scenario tests: services open through the dummy module,
whose jobs run at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from huey.contrib.djhuey import HUEY

from billow.orders import actions, selectors
from billow.services import actions as services
from billow.services.models import Service
from billow.services.modules.dummy import reset_store
from tests.billing.world import World


@pytest.fixture
def module_jobs_inline() -> Iterator[None]:
    reset_store()
    previous, HUEY.immediate = HUEY.immediate, True
    try:
        yield
    finally:
        HUEY.immediate = previous
        reset_store()


def order(
    world: World, client: Any, tariff: Any, period: str, *, now: datetime, capture: Any
) -> Service:
    """Check out ``tariff`` for ``period`` from the balance (it must cover it) at ``now``."""
    client.providers.add(world.provider)
    if not world.product_type.module_instances.exists():
        services.create_module_instance(
            module="dummy", name=f"dummy-{world.provider.pk}", product_types=[world.product_type]
        )
    with capture(execute=True):
        result = actions.checkout(
            client=client,
            provider_id=world.provider.pk,
            items=[selectors.ItemSpec("i1", tariff.pk, period)],
            currency="USD",
            now=now,
        )
    assert result.paid
    (item,) = result.items
    return world.refresh(item.service)
