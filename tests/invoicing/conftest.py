"""Fixtures: see tests/orders/shop.py."""

from tests.orders.shop import _isolated, shop

__all__ = ["_isolated", "shop"]
