"""Template context of the client area: the acting client user, the unread count and the number
of items in the cart."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from billow.accounts.selectors import get_client_user
from billow.notifications.selectors import count_unread_for_client
from billow.web.impersonation import banner_context
from billow.web.shop_selectors import count_cart_items


def client_area(request: HttpRequest) -> dict[str, Any]:
    if not request.path.startswith("/admin/") and request.user.is_authenticated:
        banner = banner_context(request)
        client_user = getattr(request, "client_user", None) or get_client_user(request.user)
        if client_user is not None:
            return {
                "client_user": client_user,
                "nav_unread": count_unread_for_client(client_id=client_user.client_id),
                "nav_cart": count_cart_items(client_user.client_id),
                **banner,
            }
        return banner
    return {}
