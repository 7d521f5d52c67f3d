"""Canned replies render in a sandbox; attachments respect size, type and the virus scan."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from billow.core.actors import Actor
from billow.support import actions
from billow.support.attachments import Upload
from billow.support.canned import placeholder_values, render_canned
from billow.support.errors import AttachmentRefused
from tests.support.conftest import Desk, support_counts

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def refuse_eicar(name: str, content: bytes) -> str | None:
    return "Eicar-Test-Signature" if b"EICAR-STANDARD" in content else None


def open_a(desk: Desk, uploads=()):
    return actions.open_ticket(
        department=desk.support,
        client=desk.web.a.client,
        subject="Logs",
        body="see attached",
        uploads=uploads,
        actor=Actor.client_user(desk.web.a.owner),
    )


def test_canned_reply_fills_placeholders_and_nothing_else(desk: Desk, settings) -> None:
    ticket = open_a(desk)
    values = placeholder_values(ticket, staff_name="Bob", service_name="web-1")
    text = (
        "Hello {{ client.name }}, ticket {{ ticket.id }} about {{service.name}}. "
        "[{{ settings.SECRET_KEY }}][{{ ticket.client.users.all }}][{{ client.delete }}]"
        "[{% debug %}][{% load static %}][{{ client.name.upper }}][{# hidden #}]"
        " -- {{ staff.name }}"
    )
    rendered = render_canned(text, values)
    assert rendered == (
        f"Hello {desk.web.a.client.name}, ticket {ticket.pk} about web-1. [][][][][][][] -- Bob"
    )
    assert settings.SECRET_KEY not in rendered
    desk.web.a.client.refresh_from_db()  # a "method call" deleted nothing


def test_attachment_is_stored_through_the_storage_api(desk: Desk) -> None:
    ticket = open_a(desk, [Upload("boot.log", b"kernel panic\n")])
    attachment = ticket.messages.get().attachments.get()
    assert (attachment.name, attachment.size, attachment.content_type) == (
        "boot.log",
        13,
        "application/octet-stream",  # .log: no registered type
    )
    assert attachment.file.name == f"support/{attachment.sha256[:2]}/{attachment.sha256}"
    with default_storage.open(attachment.file.name) as fh:
        assert fh.read() == b"kernel panic\n"


@pytest.mark.parametrize(
    ("upload", "reason"),
    [
        (Upload("big.log", b"x" * 101), "too_big"),
        (Upload("run.exe", b"MZ"), "type"),
        (Upload("eicar.txt", EICAR), "virus"),
    ],
)
def test_refused_attachments_write_nothing(desk: Desk, settings, upload, reason) -> None:
    settings.SUPPORT_ATTACHMENT_MAX_BYTES = 100
    settings.SUPPORT_VIRUS_SCANNER = "tests.support.test_canned_and_files.refuse_eicar"
    before = support_counts()
    with pytest.raises(AttachmentRefused) as exc:
        open_a(desk, [upload])
    assert exc.value.details["reason"] == reason
    assert support_counts() == before


def test_the_same_file_twice_is_stored_once(desk: Desk) -> None:
    first = open_a(desk, [Upload("a.log", b"same")]).messages.get().attachments.get()
    second = open_a(desk, [Upload("b.log", b"same")]).messages.get().attachments.get()
    assert first.file.name == second.file.name
    assert (first.name, second.name) == ("a.log", "b.log")
