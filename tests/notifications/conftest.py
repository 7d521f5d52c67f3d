# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Notifications fixtures: a provider and clients made through the accounts actions, Huey in
immediate mode, and a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from huey.contrib.djhuey import HUEY

from billow.accounts import actions as accounts
from billow.accounts.models import Client, Provider
from billow.notifications.models import MessageTemplate, Notification, OutboundEmail

T0 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def provider(db) -> Provider:
    return accounts.create_provider(
        name="Acme Cloud",
        code="acme",
        default_currency="EUR",
        email="billing@acme.example",
        billing_url="https://my.acme.example",
    )


@pytest.fixture
def other_provider(db) -> Provider:
    return accounts.create_provider(name="Beta Hosting", code="beta", default_currency="USD")


def make_client(provider: Provider, email: str, language: str = "en", **kw: Any) -> Client:
    return accounts.create_client(
        email=email, providers=[provider], language=language, now=T0, **kw
    )


@pytest.fixture
def client_en(provider: Provider) -> Client:
    return make_client(provider, "ann@example.com", "en", name="Ann Ltd", contact_person="Ann")


@pytest.fixture
def client_ru(provider: Provider) -> Client:
    return make_client(
        provider, "olga@example.com", "ru", name="ООО Ромашка", contact_person="Ольга"
    )


@pytest.fixture
def immediate_huey() -> Iterator[Any]:
    """Enqueued jobs run inline; retries with a delay land in the in-memory schedule."""
    previous = HUEY.immediate
    HUEY.immediate = True
    HUEY.flush()
    try:
        yield HUEY
    finally:
        HUEY.flush()
        HUEY.immediate = previous


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpSink:
    """aiosmtpd handler: collects envelopes; ``reject_rcpt`` answers RCPT with that reply."""

    messages: list[Any] = field(default_factory=list)
    reject_rcpt: str = ""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt:
            return self.reject_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(settings) -> Iterator[tuple[SmtpSink, int]]:
    """A real SMTP server on 127.0.0.1 and Django's SMTP backend pointed at it."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd chats at INFO
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    try:
        yield sink, port
    finally:
        controller.stop()


def counts() -> dict[str, int]:
    return {
        "templates": MessageTemplate.objects.count(),
        "notifications": Notification.objects.count(),
        "emails": OutboundEmail.objects.count(),
    }
