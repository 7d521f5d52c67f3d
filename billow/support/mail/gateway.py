"""The mail gateway: an SMTP or LMTP server (aiosmtpd) that hands every accepted email to
``receive_email``. Put it behind the MTA that receives the support domain (Postfix:
``mailbox_transport = lmtp:inet:127.0.0.1:8025`` or a transport map for the domain).

Only addresses of our domain are accepted (RCPT TO: 550 otherwise), so it is no open relay.
Mail that creates nothing (auto-replies, bounces) is still accepted (250): refusing it would
make the sending server bounce, which is how loops start.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections, connections

from billow.support.mail.inbound import receive_email
from billow.support.models import Department

logger = logging.getLogger("billow.support")


def _accepts(address: str) -> bool:
    domain = address.rpartition("@")[2].lower()
    ours = {settings.SUPPORT_REPLY_ADDRESS.rpartition("@")[2].lower()}
    ours.update(
        e.rpartition("@")[2].lower()
        for e in Department.objects.exclude(email="").values_list("email", flat=True)
    )
    return domain in ours


def _deliver(raw: bytes, recipients: list[str], sender: str) -> str:
    close_old_connections()  # the gateway runs for days: drop connections the DB closed
    try:
        return receive_email(raw, recipients=recipients, envelope_sender=sender).outcome
    finally:
        connections.close_all()  # this worker thread's; mail is rare enough to reconnect


class SupportHandler:
    """aiosmtpd handler; the database work runs in a worker thread (Django's ORM is sync)."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        accepted = await asyncio.to_thread(_accepts_fresh, address)
        if not accepted:
            return "550 5.1.1 not a support address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if len(raw) > settings.SUPPORT_MAX_EMAIL_BYTES:
            return "552 5.3.4 message too big"
        try:
            outcome = await asyncio.to_thread(
                _deliver, raw, list(envelope.rcpt_tos), envelope.mail_from or ""
            )
        except Exception:  # a temporary failure (database down ...): the MTA retries later
            logger.exception("support gateway: could not store an email")
            return "451 4.3.0 temporary failure, try again later"
        logger.info("support gateway: %s", outcome)
        return "250 OK"


def _accepts_fresh(address: str) -> bool:
    close_old_connections()
    try:
        return _accepts(address)
    finally:
        connections.close_all()


class LMTPController(Controller):
    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


def make_controller(*, host: str, port: int, lmtp: bool = False) -> Controller:
    handler = SupportHandler()
    kwargs: dict[str, Any] = {
        "hostname": host,
        "port": port,
        "data_size_limit": settings.SUPPORT_MAX_EMAIL_BYTES,
    }
    return LMTPController(handler, **kwargs) if lmtp else Controller(handler, **kwargs)
