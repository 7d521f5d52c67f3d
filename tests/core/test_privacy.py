"""billow.core.privacy: which responses are marked private (PDF included, by content type)."""

from __future__ import annotations

from django.http import HttpResponse
from django.test import RequestFactory

from billow.core.privacy import PrivateResponseMiddleware


def _served(path: str, content_type: str) -> HttpResponse:
    middleware = PrivateResponseMiddleware(
        lambda request: HttpResponse(b"x", content_type=content_type)
    )
    return middleware(RequestFactory().get(path))


def test_pdf_and_csv_anywhere_and_everything_under_api_are_private() -> None:
    for path, content_type in [
        ("/billing/invoices/1/pdf/", "application/pdf"),
        ("/admin/invoicing/invoice/1/pdf/", "application/pdf"),
        ("/billing/statement.csv", "text/csv; charset=utf-8"),
        ("/api/v1/me/", "application/json"),
    ]:
        assert _served(path, content_type)["Cache-Control"] == "private, no-store", path


def test_an_html_page_is_left_alone() -> None:
    assert not _served("/billing/", "text/html").has_header("Cache-Control")
