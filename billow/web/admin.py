"""Staff admin customisations: the dashboard on the admin index (see admin_dashboard), the
usage statistics pages (see admin_usage) and the client page with "log in as client" (see
admin_client), added to the admin site's URLs."""

from typing import Any

from django.contrib import admin

from billow.web.admin_client import client_page_urls
from billow.web.admin_search import search_urls
from billow.web.admin_usage import usage_urls

admin.site.index_template = "web/admin/index.html"
_site_urls = admin.site.get_urls


def _get_urls() -> list[Any]:
    return [
        *usage_urls(admin.site),
        *client_page_urls(admin.site),
        *search_urls(admin.site),
        *_site_urls(),
    ]


admin.site.get_urls = _get_urls  # type: ignore[method-assign]
