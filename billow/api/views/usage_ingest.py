"""``POST /api/v1/usage/records``: bulk usage records, JSON lines or CSV, read as a stream.

Staff (the ``staff:write`` scope and the ``usage.add_usagerecord`` permission) may send records
for any service; a module instance's ingest token (``bmi_...``) only for that instance's
services. The body is never loaded whole: ``request`` is read in chunks by the parser, so a
1 GB upload costs one chunk and one batch of memory. The answer lists per-record errors
(unknown or deleted service, outside the late window, malformed) while the rest are stored.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response

from billow.api.authentication import (
    BearerTokenAuthentication,
    IngestTokenAuthentication,
    SessionAuthentication,
)
from billow.api.permissions import ScopePermission
from billow.api.views.base import BaseView
from billow.usage.bulk import ingest_body
from billow.usage.models import IngestToken
from billow.usage.parsing import CSV_TYPES, JSON_TYPES


class _StreamParser(BaseParser):
    """Declares the accepted media types; the view reads the stream itself (never ``.data``)."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return {}


class _JsonLines(_StreamParser):
    media_type = "application/x-ndjson"


class _Csv(_StreamParser):
    media_type = "text/csv"


class IngestPermission(permissions.BasePermission):
    """A module instance's ingest token, or staff allowed to add usage records."""

    message = "Staff with usage rights or a module instance's ingest token only."

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, IngestToken):
            return True
        return ScopePermission().has_permission(request, view)


class UsageRecordsView(BaseView):
    scope = "staff"
    staff_perms = {"POST": ("usage.add_usagerecord",)}
    authentication_classes = [
        IngestTokenAuthentication,
        BearerTokenAuthentication,
        SessionAuthentication,
    ]
    permission_classes = [IngestPermission]
    parser_classes = [_JsonLines, _Csv]

    @extend_schema(
        request={media: {"type": "string"} for media in (*JSON_TYPES, *CSV_TYPES)},
        responses={200: OpenApiResponse(description="Counts and the per-record error list")},
    )
    def post(self, request: Request) -> Response:
        token = request.auth if isinstance(request.auth, IngestToken) else None
        result = ingest_body(
            request._request,
            request.content_type or "",
            module_instance_id=token.module_instance_id if token else None,
        )
        return Response(result.as_dict())
