"""``Cache-Control: private, no-store`` on every response that carries a client's or staff's data
as a file or through the API: CSV exports, PDF documents and every ``/api/`` answer. A shared
proxy or the browser's disk cache must not keep a statement or an invoice after logout."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

PRIVATE_CONTENT_TYPES = ("text/csv", "application/pdf")
PRIVATE_PATH_PREFIXES = ("/api/",)


def is_private(request: HttpRequest, response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return request.path.startswith(PRIVATE_PATH_PREFIXES) or content_type in PRIVATE_CONTENT_TYPES


class PrivateResponseMiddleware:
    """Marks API, CSV and PDF responses ``private, no-store``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_private(request, response):
            patch_cache_control(response, private=True, no_store=True)
        return response
