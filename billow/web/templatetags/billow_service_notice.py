"""``{% suspension_notice service as notice %}``: why staff suspended a service, for its client
(``services.selectors.get_suspension_notice``; "" unless suspended by staff or for abuse)."""

from __future__ import annotations

from typing import Any

from django import template

from billow.services.selectors import get_suspension_notice

register = template.Library()


@register.simple_tag
def suspension_notice(service: Any) -> str:
    return get_suspension_notice(service)
