"""The websocket -> VNC proxy for VM consoles (websockify with Billow's ticket plugin).

Run it on the libvirt host (VNC displays listen on 127.0.0.1 there), behind the TLS
reverse proxy, with the site's settings (it checks tickets with SECRET_KEY; no database)::

    DJANGO_SETTINGS_MODULE=config.settings python -m billow.services.console_proxy 127.0.0.1:6080

and set ``BILLOW_CONSOLE_PROXY_URL`` (e.g. ``wss://console.example.com``) for the client area.
"""

from __future__ import annotations

import sys
from typing import Any

from websockify.token_plugins import BasePlugin


class ConsoleTickets(BasePlugin):
    """websockify token plugin: the target of a valid Billow console ticket."""

    def __init__(self, src: Any = None) -> None:
        super().__init__(src)
        import django

        django.setup()

    def lookup(self, token: str) -> tuple[str, int] | None:
        from billow.services.console import ticket_target

        return ticket_target(token)


def main(argv: list[str]) -> None:
    from websockify.websocketproxy import websockify_init

    sys.argv = [
        "websockify",
        "--token-plugin",
        f"{__name__}.ConsoleTickets",
        *argv,
    ]
    websockify_init()


if __name__ == "__main__":
    main(sys.argv[1:])
