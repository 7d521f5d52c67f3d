"""Admin search (issue 13.6): clients by email, name, payer name and VAT id; services by name,
external id and IP; invoices by number; payments by gateway id; grouped by kind, on the search
page and in the Ctrl-K palette."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from billow.accounts.models import Payer
from billow.services.models import Service
from billow.web.admin_search import command_search, search_admin
from tests.web.conftest import WebWorld

pytestmark = pytest.mark.django_db


def _titles(query: str) -> dict[str, list[str]]:
    return {g.kind: [h.title for h in g.hits] for g in search_admin(query)}


@pytest.fixture
def found(web: WebWorld) -> WebWorld:
    Payer.objects.filter(pk=web.b.payer.pk).update(name="Globex GmbH", tax_id="DE123456789")
    Service.objects.filter(pk=web.a.service.pk).update(
        external_id="vm-4711", parameters={"ip_addresses": ["198.51.100.23"]}
    )
    return web


def test_clients_by_email_name_payer_and_vat_id(found: WebWorld) -> None:
    a, b = found.a.client, found.b.client
    assert _titles("owner-a@example") == {"clients": [f"#{a.pk} {a.name}"]}
    assert _titles("Globex") == {"clients": [f"#{b.pk} {b.name}"]}
    assert _titles("DE123456789") == {"clients": [f"#{b.pk} {b.name}"]}
    both = _titles("@example.com")["clients"]
    assert both == [f"#{a.pk} {a.name}", f"#{b.pk} {b.name}"]


def test_services_by_name_external_id_and_ip(found: WebWorld) -> None:
    a, b = found.a.service, found.b.service
    assert _titles("vm-4711") == {"services": [f"#{a.pk} web-1"]}
    assert _titles("198.51.100.23") == {"services": [f"#{a.pk} web-1"]}
    assert _titles("web-1") == {"services": [f"#{b.pk} web-1", f"#{a.pk} web-1"]}


def test_nothing_for_a_one_letter_or_unknown_query(found: WebWorld) -> None:
    assert search_admin("w") == []
    assert search_admin("no-such-thing-anywhere") == []


def test_invoices_by_number_and_payments_by_gateway_id(
    found: WebWorld, admin_client: HttpClient
) -> None:
    from datetime import UTC, datetime

    from billow.invoicing.models import Invoice, InvoiceStatus
    from billow.payments.models import Payment, PaymentMethod

    a = found.a.client
    invoice = Invoice.objects.create(
        provider=found.world.provider,
        client=a,
        year=2027,
        number=42,
        status=InvoiceStatus.PAID,
        currency="USD",
        subtotal_minor=1000,
        tax_minor=0,
        total_minor=1000,
        issued_at=datetime(2027, 3, 1, tzinfo=UTC),
    )
    method = PaymentMethod.objects.create(
        provider=found.world.provider, name="Sandbox", gateway="sandbox", currency="USD"
    )
    payment = Payment.objects.create(
        provider=found.world.provider,
        client=a,
        method=method,
        amount_minor=2550,
        currency="USD",
        idempotency_key="search-test-1",
        gateway_reference="ch_3PQxyzABC",
    )
    assert _titles("INV-2027-000042") == {"invoices": ["INV-2027-000042"]}
    assert _titles("42") == {"invoices": ["INV-2027-000042"]}
    assert _titles("ch_3PQxyzABC") == {"payments": [f"#{payment.pk} ch_3PQxyzABC"]}
    # the search page groups them by kind
    html = admin_client.get("/admin/find/?q=INV-2027-000042").content.decode()
    assert 'id="search-invoices"' in html and "Invoices (1)" in html
    assert f"/admin/invoicing/invoice/{invoice.pk}/change/" in html
    assert "$10.00" in html
    # and the Ctrl-K palette lists the same hit with its kind
    request = admin_client.get("/admin/").wsgi_request
    hits = command_search(request, "ch_3PQxyzABC")
    assert [(h.title, h.description) for h in hits] == [
        (f"#{payment.pk} ch_3PQxyzABC", f"Payments · {a.name} · $25.50 · New")
    ]


def test_search_page_links_clients_to_the_client_page(
    found: WebWorld, admin_client: HttpClient
) -> None:
    a = found.a.client
    html = admin_client.get("/admin/find/?q=owner-a").content.decode()
    assert "Clients (1)" in html
    assert f"/admin/accounts/client/{a.pk}/overview/" in html
    # unfold's Ctrl-K endpoint answers with our hits
    ctrl_k = admin_client.get("/admin/search/", {"s": "owner-a", "extended": "1"})
    assert ctrl_k.status_code == 200
    assert f"/admin/accounts/client/{a.pk}/overview/" in ctrl_k.content.decode()
