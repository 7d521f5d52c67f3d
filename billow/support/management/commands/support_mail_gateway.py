"""``billow support_mail_gateway [--lmtp] [--host H] [--port P]``: receive support mail."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from billow.support.mail.gateway import make_controller


class Command(BaseCommand):
    help = "Run the support mail gateway (SMTP, or LMTP with --lmtp) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.SUPPORT_MAIL_GATEWAY_HOST)
        parser.add_argument("--port", type=int, default=settings.SUPPORT_MAIL_GATEWAY_PORT)
        parser.add_argument("--lmtp", action="store_true", help="speak LMTP instead of SMTP")

    def handle(self, *args: Any, **options: Any) -> None:
        controller = make_controller(
            host=options["host"], port=options["port"], lmtp=options["lmtp"]
        )
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        controller.start()
        kind = "LMTP" if options["lmtp"] else "SMTP"
        self.stdout.write(f"support mail gateway ({kind}) on {options['host']}:{options['port']}")
        stop.wait()
        controller.stop()
