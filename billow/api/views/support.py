"""Support endpoints: the client's tickets (list, open, read, reply, close, reopen, rate) and
attachment downloads. Another client's ticket is 404, as everywhere."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from billow.accounts.selectors import list_provider_ids_for_client
from billow.api.idempotency import idempotent
from billow.api.serializers import support as s
from billow.api.views.base import ClientView, validated
from billow.support import actions, selectors
from billow.support.attachments import Upload
from billow.support.models import Ticket


class SupportView(ClientView):
    scope = "support"

    def get_ticket(self, ticket_id: int) -> Ticket:
        return self.get_or_404(selectors.list_tickets_for_client(self.client_id), pk=ticket_id)

    def detail(self, ticket_id: int) -> dict[str, Any]:
        ticket = self.get_ticket(ticket_id)
        ticket.public_messages = selectors.list_public_messages(ticket)  # type: ignore[attr-defined]
        return dict(s.TicketDetailOut(ticket).data)


def _uploads(data: dict[str, Any]) -> list[Upload]:
    return [Upload(a["name"], a["content_base64"]) for a in data.get("attachments", [])]


class DepartmentListView(SupportView, generics.ListAPIView):
    serializer_class = s.DepartmentOut
    pagination_class = None

    def get_queryset(self) -> QuerySet[Any]:
        providers = list_provider_ids_for_client(self.client_id)
        return selectors.list_public_departments(providers)


class TicketListView(SupportView, generics.ListAPIView):
    serializer_class = s.TicketOut

    @extend_schema(parameters=[s.TicketFilter])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        f = validated(s.TicketFilter, self.request.query_params)
        rows = selectors.list_tickets_for_client(self.client_id)
        return rows.filter(status=f["status"]) if f.get("status") else rows

    @extend_schema(request=s.TicketIn, responses={201: s.TicketDetailOut})
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated(s.TicketIn, request.data)
        client = self.client_user.client
        departments = selectors.list_public_departments(list_provider_ids_for_client(client))
        department = self.get_or_404(departments, pk=data["department_id"])
        ticket = actions.open_ticket(
            department=department,
            client=client,
            subject=data["subject"],
            body=data["body"],
            priority=data["priority"],
            service_id=data["service_id"],
            uploads=_uploads(data),
            source="api",
            actor=self.actor,
        )
        return Response(self.detail(ticket.pk), status=status.HTTP_201_CREATED)


class TicketDetailView(SupportView):
    @extend_schema(responses=s.TicketDetailOut)
    def get(self, request: Request, ticket_id: int) -> Response:
        return Response(self.detail(ticket_id))


class TicketMessageView(SupportView):
    @extend_schema(request=s.MessageIn, responses={201: s.TicketDetailOut})
    @idempotent
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = self.get_ticket(ticket_id)
        data = validated(s.MessageIn, request.data)
        actions.post_client_message(
            ticket=ticket, body=data["body"], uploads=_uploads(data), source="api", actor=self.actor
        )
        return Response(self.detail(ticket_id), status=status.HTTP_201_CREATED)


class TicketCloseView(SupportView):
    @extend_schema(request=None, responses=s.TicketDetailOut)
    def post(self, request: Request, ticket_id: int) -> Response:
        actions.close_ticket(ticket=self.get_ticket(ticket_id), actor=self.actor, user=request.user)
        return Response(self.detail(ticket_id))


class TicketReopenView(SupportView):
    @extend_schema(request=None, responses=s.TicketDetailOut)
    def post(self, request: Request, ticket_id: int) -> Response:
        actions.reopen_ticket(
            ticket=self.get_ticket(ticket_id), actor=self.actor, user=request.user
        )
        return Response(self.detail(ticket_id))


class TicketRateView(SupportView):
    @extend_schema(request=s.RateIn, responses=s.TicketDetailOut)
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = self.get_ticket(ticket_id)
        data = validated(s.RateIn, request.data)
        actions.rate_ticket(
            ticket=ticket, rating=data["rating"], comment=data["comment"], actor=self.actor
        )
        return Response(self.detail(ticket_id))


class AttachmentView(SupportView):
    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(description="The file")}
    )
    def get(self, request: Request, attachment_id: int) -> FileResponse:
        found = selectors.get_client_attachment(self.client_id, attachment_id)
        if found is None:
            from django.http import Http404

            raise Http404
        return FileResponse(
            found.file.open("rb"),
            as_attachment=True,
            filename=found.name,
            content_type="application/octet-stream",
        )
