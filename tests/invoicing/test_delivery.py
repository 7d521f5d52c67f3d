"""Emailing issued documents: to the payer's address (else the client's), per the payer's
document delivery, with the PDF attached, in the client's language, once per document.

Huey runs jobs inline here (``tests/orders/shop.py``); mail goes to Django's locmem outbox.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from email import message_from_bytes, policy
from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from billow.accounts.actions import create_payer
from billow.accounts.models import Client, Payer
from billow.invoicing.actions import InvoiceLineInput, issue_credit_note, issue_invoice
from billow.invoicing.delivery import deliver_after_commit, deliver_documents
from billow.invoicing.models import Invoice
from billow.notifications.actions import resend_email, send_outbound_email
from billow.notifications.models import EmailStatus, OutboundEmail
from tests.notifications.conftest import smtp_server
from tests.orders.shop import Shop

pytestmark = pytest.mark.django_db
pypdf = pytest.importorskip("pypdf")
__all__ = ["smtp_server"]  # the fixture of a real SMTP server
LINE = InvoiceLineInput("VPS-S (1m)", 1, 1000, 0, 1000, Decimal(19), 190, 1190)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def payer_of(client: Client, **kw: Any) -> Payer:
    fields = {
        "kind": "company",
        "name": "Acme GmbH",
        "email": "ap@acme.test",
        "legal_country": "DE",
    }
    fields.update(kw)
    return create_payer(client=client, **fields)


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Run ``fn`` as if its transaction committed: the after-commit jobs run (inline)."""

    def run(fn: Callable[..., Any], **kw: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kw)

    return run


def test_an_issued_invoice_is_emailed_to_the_payer_with_its_pdf(
    shop: Shop, committed: Callable[..., Any]
) -> None:
    # given a company payer with its own address
    client = shop.client()
    payer = payer_of(client)
    # when an invoice is issued and its transaction commits
    inv = committed(
        issue_invoice,
        provider=shop.provider,
        client=client,
        payer=payer,
        currency="USD",
        lines=[LINE],
        paid=True,
    )
    # then one email went to the payer, with the PDF
    (message,) = mail.outbox
    assert message.to == ["ap@acme.test"]
    assert message.subject == "Invoice INV-2027-000001 from Cloudy"
    assert "Please find attached invoice INV-2027-000001 of 2027-03-10 for 11.90 USD." in (
        message.body
    )
    assert "paid from your balance" in message.body
    ((name, content, mimetype),) = message.attachments
    assert (name, mimetype) == ("INV-2027-000001.pdf", "application/pdf")
    text = pdf_text(content)
    assert "Invoice INV-2027-000001" in text and "VAT 19 % on 10.00 USD" in text
    row = OutboundEmail.objects.get()
    assert (row.status, row.event, row.dedup_key) == (
        EmailStatus.SENT,
        "invoice_issued",
        f"document:invoice:{inv.pk}",
    )
    assert row.attachments == [{"kind": "invoice", "id": inv.pk}]


def test_a_document_is_emailed_once_however_often_delivery_runs(
    shop: Shop, committed: Callable[..., Any]
) -> None:
    client = shop.client()
    inv = committed(
        issue_invoice, provider=shop.provider, client=client, currency="USD", lines=[LINE]
    )
    assert len(mail.outbox) == 1
    # the job reruns, and another caller asks again
    assert deliver_documents(invoice_ids=[inv.pk]) == 0
    committed(deliver_after_commit, invoice_ids=[inv.pk, inv.pk])
    assert len(mail.outbox) == 1
    assert OutboundEmail.objects.count() == 1


def test_without_a_payer_or_its_email_the_client_gets_it(
    shop: Shop, committed: Callable[..., Any]
) -> None:
    client = shop.client()
    no_email = payer_of(client, email="")
    committed(issue_invoice, provider=shop.provider, client=client, currency="USD", lines=[LINE])
    committed(
        issue_invoice,
        provider=shop.provider,
        client=client,
        payer=no_email,
        currency="USD",
        lines=[LINE],
    )
    assert [m.to for m in mail.outbox] == [[client.email], [client.email]]


@pytest.mark.parametrize("delivery", ["post", "edi", "none"])
def test_only_email_delivery_sends(
    shop: Shop, committed: Callable[..., Any], delivery: str
) -> None:
    client = shop.client()
    payer = payer_of(client, document_delivery=delivery)
    inv = committed(
        issue_invoice,
        provider=shop.provider,
        client=client,
        payer=payer,
        currency="USD",
        lines=[LINE],
    )
    assert mail.outbox == []
    assert OutboundEmail.objects.count() == 0
    assert deliver_documents(invoice_ids=[inv.pk]) == 0


def test_a_rolled_back_issue_sends_nothing(shop: Shop, committed: Callable[..., Any]) -> None:
    client = shop.client()

    def issue_then_fail() -> None:
        with transaction.atomic():
            issue_invoice(provider=shop.provider, client=client, currency="USD", lines=[LINE])
            raise RuntimeError("the caller's use case failed")

    with pytest.raises(RuntimeError):
        committed(issue_then_fail)
    assert mail.outbox == []
    assert Invoice.objects.count() == 0


def test_a_credit_note_is_emailed_in_the_clients_language(
    shop: Shop, committed: Callable[..., Any]
) -> None:
    # given a Russian-speaking client with an invoice
    client = shop.client()
    client.language = "ru"
    client.save(update_fields=["language"])
    inv = committed(
        issue_invoice, provider=shop.provider, client=client, currency="USD", lines=[LINE]
    )
    # when a credit note corrects it
    note = committed(issue_credit_note, invoice=inv, amount_minor=595, reason="Возврат")
    # then the note is emailed in Russian with its Russian PDF
    invoice_mail, note_mail = mail.outbox
    assert invoice_mail.subject == "Счёт INV-2027-000001 от Cloudy"
    assert note_mail.subject == "Корректировочный счёт CN-2027-000001 от Cloudy"
    assert "к счёту INV-2027-000001. Причина: Возврат." in note_mail.body
    ((name, content, _),) = note_mail.attachments
    assert name == "CN-2027-000001.pdf"
    text = pdf_text(content)
    assert "Корректировочный счёт CN-2027-000001" in text and "5.95 USD" in text
    assert OutboundEmail.objects.get(dedup_key=f"document:credit_note:{note.pk}").language == "ru"


def test_the_invoice_email_through_a_real_smtp_server(
    shop: Shop, committed: Callable[..., Any], smtp_server: Any
) -> None:
    sink, _port = smtp_server
    client = shop.client()
    committed(
        issue_invoice,
        provider=shop.provider,
        client=client,
        payer=payer_of(client),
        currency="USD",
        lines=[LINE],
    )
    (envelope,) = sink.messages
    assert envelope.rcpt_tos == ["ap@acme.test"]
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == "Invoice INV-2027-000001 from Cloudy"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "INV-2027-000001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert "VAT 19 % on 10.00 USD" in pdf_text(attachment.get_content())


def test_an_attachment_that_cannot_be_built_fails_the_email_for_good(shop: Shop) -> None:
    row = OutboundEmail.objects.create(
        to="x@example.com",
        from_email="b@cloudy.test",
        subject="Invoice",
        body="attached",
        attachments=[{"kind": "invoice", "id": 999_999}],
    )
    assert send_outbound_email(outbound_id=row.pk) == EmailStatus.FAILED
    row.refresh_from_db()
    assert (row.status, row.attempts) == (EmailStatus.FAILED, 1)
    assert "No invoice 999999" in row.error
    assert mail.outbox == []


def test_staff_resend_of_a_document_email_attaches_the_pdf_again(
    shop: Shop, committed: Callable[..., Any]
) -> None:
    client = shop.client()
    committed(issue_invoice, provider=shop.provider, client=client, currency="USD", lines=[LINE])
    original = OutboundEmail.objects.get()
    copy = committed(resend_email, outbound_id=original.pk)
    assert (copy.attachments, copy.language) == (original.attachments, "en")
    first, second = mail.outbox
    assert first.attachments[0][0] == second.attachments[0][0] == "INV-2027-000001.pdf"


def test_staff_see_whether_a_document_was_emailed(
    shop: Shop, committed: Callable[..., Any], admin_client: Any
) -> None:
    from django.urls import reverse

    client = shop.client()
    emailed = committed(
        issue_invoice, provider=shop.provider, client=client, currency="USD", lines=[LINE]
    )
    by_post = issue_invoice(
        provider=shop.provider,
        client=client,
        payer=payer_of(client, document_delivery="post"),
        currency="USD",
        lines=[LINE],
    )
    page = admin_client.get(reverse("admin:invoicing_invoice_change", args=[emailed.pk]))
    assert f"Sent: {client.email}, 2027-03-10 12:00 UTC" in page.content.decode()
    page = admin_client.get(reverse("admin:invoicing_invoice_change", args=[by_post.pk]))
    assert "No email (the payer takes documents another way, or none yet)" in (
        page.content.decode()
    )


def test_production_emails_documents_a_couple_of_minutes_after_the_commit(
    shop: Shop, settings: Any, monkeypatch: pytest.MonkeyPatch, committed: Callable[..., Any]
) -> None:
    # given the default delay (tests run with 0 so their emails go at once)
    from billow.invoicing import tasks

    settings.BILLOW = {**settings.BILLOW, "DOCUMENT_EMAIL_DELAY_SECONDS": 120}
    scheduled: list[tuple[Any, Any, float]] = []
    monkeypatch.setattr(
        tasks.deliver_documents,
        "schedule",
        lambda args, kwargs, delay: scheduled.append((args, kwargs, delay)),
    )
    # when an invoice is issued and its transaction commits
    client = shop.client()
    inv = committed(
        issue_invoice, provider=shop.provider, client=client, currency="USD", lines=[LINE]
    )
    # then its email job is scheduled 120 s later, and nothing is sent yet
    assert scheduled == [(([inv.pk], []), {}, 120.0)]
    assert mail.outbox == []
    assert OutboundEmail.objects.count() == 0
