"""The events Billow notifies about, and the context keys callers pass for each.

``SAMPLE_CONTEXT`` below lists the keys of each event (what the billing run and the services
app pass). A ``service_id`` without ``service_name`` gets the service's name (or tariff and
number) looked up. Every template also gets ``client`` (id, name, email, contact_person,
language) and ``provider`` (id, name, billing_url, site_url, support_email). An integer
``<x>_minor`` key next to a ``currency`` key also appears formatted as ``<x>``
(``amount_minor=1250, currency="EUR"`` gives ``amount="12.50 EUR"``) unless the caller sets
``<x>`` itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    SERVICE_OPENED = "service_opened", _("Service opened")
    RENEWAL_COMING = "renewal_coming", _("Renewal coming")
    TRIAL_ENDING = "trial_ending", _("Trial ending")
    LOW_BALANCE = "low_balance", _("Low balance")
    SERVICE_SUSPENDED = "service_suspended", _("Service suspended")
    SERVICE_RESUMED = "service_resumed", _("Service resumed")
    SERVICE_DELETED = "service_deleted", _("Service deleted")
    AUTOPAY_FAILED = "autopay_failed", _("Automatic payment failed")
    OPERATION_FAILED = "operation_failed", _("Operation failed (to staff)")
    INVOICE_ISSUED = "invoice_issued", _("Invoice issued (email with the PDF)")
    CREDIT_NOTE_ISSUED = "credit_note_issued", _("Credit note issued (email with the PDF)")
    USAGE_APPROACHING = "usage_approaching", _("Usage approaching the included amount")
    USAGE_EXCEEDED = "usage_exceeded", _("Usage over the included amount")
    USAGE_OVER_LIMIT = "usage_over_limit", _("Service suspended: usage limit reached")
    # support tickets (billow.support): a staff reply to the client, a client message to staff
    TICKET_REPLY = "ticket_reply", _("Support ticket answered")
    TICKET_MESSAGE = "ticket_message", _("Support ticket message (to staff)")


#: Events that go to staff, not to a client.
STAFF_EVENTS = frozenset({Event.OPERATION_FAILED.value, Event.TICKET_MESSAGE.value})
#: Events sent by email only, with the document attached (``invoicing.delivery``): no
#: in-panel notification, the client area lists the documents themselves.
DOCUMENT_EVENTS = frozenset({Event.INVOICE_ISSUED.value, Event.CREDIT_NOTE_ISSUED.value})

_SERVICE = {"service_id": 1017, "service_name": "VPS-2 #1017 (web01.example.com)"}

#: What callers pass (documented by example); the admin preview renders with these.
SAMPLE_CONTEXT: dict[str, dict[str, Any]] = {
    Event.SERVICE_OPENED: {
        **_SERVICE,
        "expires_at": date(2027, 4, 1),
        "amount_minor": 1250,
        "currency": "EUR",
    },
    Event.RENEWAL_COMING: {
        **_SERVICE,
        "renews_on": "2027-04-01",
        "amount_minor": 1250,
        "currency": "EUR",
    },
    # converts_to: the paid period the trial becomes ("" when auto-renewal is off: it ends)
    Event.TRIAL_ENDING: {
        **_SERVICE,
        "ends_on": "2027-04-01",
        "converts_to": "1m",
        "amount_minor": 1250,
        "currency": "EUR",
    },
    Event.LOW_BALANCE: {"currency": "EUR", "available_minor": 310, "needed_minor": 1250},
    Event.SERVICE_SUSPENDED: {**_SERVICE, "reason": "nonpayment"},
    Event.SERVICE_RESUMED: _SERVICE,
    Event.SERVICE_DELETED: _SERVICE,
    # code: the gateway's or refusal's code, or "above_maximum" (nothing charged: the amount
    # needed is above the client's auto-payment maximum)
    Event.AUTOPAY_FAILED: {
        "currency": "EUR",
        "amount_minor": 940,
        "needed_minor": 1250,
        "available_minor": 310,
        "maximum_minor": 2000,
        "code": "card_declined",
    },
    # total: the amount due or paid; due_on: only on an invoice to be paid by a date
    Event.INVOICE_ISSUED: {
        "number": "INV-2027-000123",
        "issued_on": date(2027, 4, 1),
        "due_on": date(2027, 4, 15),
        "paid": False,
        "total_minor": 1190,
        "currency": "EUR",
    },
    Event.CREDIT_NOTE_ISSUED: {
        "number": "CN-2027-000007",
        "issued_on": date(2027, 4, 10),
        "invoice_number": "INV-2027-000123",
        "reason": "Service deleted",
        "total_minor": 595,
        "currency": "EUR",
    },
    # usage (usage.status): the addon's name, the period ("month" or "day"), amounts in the
    # meter's unit as plain numbers; percent of the included amount; limit: over_limit only
    Event.USAGE_APPROACHING: {
        **_SERVICE,
        "addon": "Outgoing traffic",
        "unit": "GiB",
        "period": "month",
        "used": "850",
        "included": "1000",
        "percent": 85,
    },
    Event.USAGE_EXCEEDED: {
        **_SERVICE,
        "addon": "Outgoing traffic",
        "unit": "GiB",
        "period": "month",
        "used": "1020.5",
        "included": "1000",
        "percent": 102,
    },
    Event.USAGE_OVER_LIMIT: {
        **_SERVICE,
        "addon": "Outgoing traffic",
        "unit": "GiB",
        "period": "month",
        "used": "5000",
        "included": "1000",
        "percent": 500,
        "limit": "5000",
    },
    Event.OPERATION_FAILED: {
        **_SERVICE,
        "operation_id": 501,
        "operation": "open",
        "code": "connection_refused",
        "message": "host unreachable",
        "task_id": 88,
        "link": "/admin/services/task/88/change/",
    },
}

# support tickets: the message text, the ticket's number and subject, a link to it
_TICKET = {
    "ticket_id": 3021,
    "subject": "Cannot reach my VPS",
    "link": "https://my.acme.example/support/3021/",
}
SAMPLE_CONTEXT[Event.TICKET_REPLY] = {
    **_TICKET,
    "message": "We restarted the host; please try again.",
    "path": "/support/3021/",
}
SAMPLE_CONTEXT[Event.TICKET_MESSAGE] = {
    **_TICKET,
    "message": "It still does not answer ping.",
    "department": "Technical support",
    "author": "Olga Owner",
}

SAMPLE_CLIENT: dict[str, Any] = {
    "id": 42,
    "name": "Example Ltd",
    "email": "owner@example.com",
    "contact_person": "Olga Owner",
    "language": "en",
}
SAMPLE_PROVIDER: dict[str, Any] = {
    "id": 1,
    "name": "Acme Cloud",
    "billing_url": "https://my.acme.example",
    "site_url": "https://acme.example",
    "support_email": "support@acme.example",
}
