"""Ordering objects of the client-area world (tests/web/conftest.py) for client A: an item in
the cart, an order waiting for payment and a quick-ordered service waiting for configuration
(the object pages of tests/web/test_access.py)."""

from __future__ import annotations

from dataclasses import dataclass

from billow.orders import actions as orders
from billow.orders.models import CartItem, Order, OrderStatus
from billow.services.models import Service
from billow.services.states import ServiceStatus
from tests.web.conftest import WebWorld


@dataclass
class ShopObjects:
    cart_item: CartItem
    order: Order
    quick: Service


def shop_objects(web: WebWorld) -> ShopObjects:
    """Created once per ``web`` world (kept on it)."""
    existing: ShopObjects | None = getattr(web, "_shop", None)
    if existing is not None:
        return existing
    a, w = web.a.client, web.world
    item = orders.add_to_cart(
        client=a, tariff=web.tariff, period="1m", currency="USD", addon_values={"ram": 2}
    )
    order = Order.objects.create(
        client=a,
        provider=w.provider,
        currency="USD",
        subtotal_minor=1200,
        total_minor=1200,
        status=OrderStatus.AWAITING_PAYMENT,
    )
    quick = Service.objects.create(
        client=a,
        provider=w.provider,
        tariff=web.tariff,
        period="1m",
        currency="USD",
        billing_mode="anniversary",
        status=ServiceStatus.CONFIGURATION_REQUIRED,
        name="quick-1",
    )
    made = ShopObjects(item, order, quick)
    web._shop = made  # type: ignore[attr-defined]
    return made


def fill_shop(web: WebWorld, text: str) -> str:
    """Replace ``{order}``, ``{quick}`` and ``{cart_item}`` by client A's ids."""
    made = shop_objects(web)
    ids = {"order": made.order.pk, "quick": made.quick.pk, "cart_item": made.cart_item.pk}
    for key, pk in ids.items():
        text = text.replace(f"{{{key}}}", str(pk))
    return text
