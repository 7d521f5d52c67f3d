"""The signed Reply-To address of a ticket: ``support+t<id><side><hmac>@domain``.

``side`` is ``c`` for mail to the client and ``s`` for mail to staff; the HMAC (keyed by
``SECRET_KEY``, salted) covers both, so a token cannot be edited to point at another ticket or
side. A token that does not verify names no ticket at all.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

_SALT = "billow.support.reply-to"
_TOKEN = re.compile(r"^t(\d{1,18})([cs])([0-9a-f]{20})$")
CLIENT_SIDE = "c"
STAFF_SIDE = "s"


@dataclass(frozen=True, slots=True)
class ReplyToken:
    ticket_id: int
    side: str


def _mac(ticket_id: int, side: str) -> str:
    return salted_hmac(_SALT, f"{ticket_id}:{side}", algorithm="sha256").hexdigest()[:20]


def reply_address(ticket_id: int, side: str) -> str:
    local, _, domain = settings.SUPPORT_REPLY_ADDRESS.partition("@")
    return f"{local}+t{ticket_id}{side}{_mac(ticket_id, side)}@{domain}"


def read_token(address: str) -> ReplyToken | None:
    """The verified token in an address (any case), or None (no token, or a forged one)."""
    local = address.strip().strip("<>").rpartition("@")[0].lower()
    _, plus, tag = local.partition("+")
    found = _TOKEN.match(tag) if plus else None
    if found is None:
        return None
    ticket_id, side, mac = int(found[1]), found[2], found[3]
    if not hmac.compare_digest(mac, _mac(ticket_id, side)):
        return None
    return ReplyToken(ticket_id, side)


def is_reply_address(address: str) -> bool:
    """Whether ``address`` is ours (the support address, with or without a tag)."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    base_local, _, base_domain = settings.SUPPORT_REPLY_ADDRESS.lower().partition("@")
    return domain == base_domain and local.partition("+")[0] == base_local
