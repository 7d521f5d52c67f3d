"""Support in the client area: the client's tickets, opening one (department, service,
attachment), the conversation (reply, attach, close, rate, reopen) and attachment downloads.
Tickets are looked up within the request's client: another client's id is a 404."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billow.accounts.selectors import list_provider_ids_for_client
from billow.core.errors import BillowError
from billow.support import actions, selectors
from billow.support.attachments import Upload
from billow.support.models import Ticket
from billow.support.states import Priority, TicketStatus, client_label
from billow.web.access import actor_of, client_of, client_view


class TicketForm(forms.Form):
    department = forms.ChoiceField(label=gettext_lazy("Department"))
    service = forms.ChoiceField(label=gettext_lazy("Service"), required=False)
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=300)
    body = forms.CharField(label=gettext_lazy("Message"), widget=forms.Textarea(attrs={"rows": 6}))
    attachment = forms.FileField(label=gettext_lazy("Attachment"), required=False)

    def __init__(self, *args: Any, departments: Any, services: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department: Any = self.fields["department"]
        service: Any = self.fields["service"]
        department.choices = [(d.pk, d.name) for d in departments]
        service.choices = [("", "—")] + [
            (s["id"], f"#{s['id']} {s['name'] or s['tariff__name']}") for s in services
        ]


class ReplyForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Message"), widget=forms.Textarea(attrs={"rows": 5}))
    attachment = forms.FileField(label=gettext_lazy("Attachment"), required=False)


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=gettext_lazy("Rating"),
        coerce=int,
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


def _uploads(request: HttpRequest) -> list[Upload]:
    limit = int(settings.SUPPORT_ATTACHMENT_MAX_BYTES) + 1
    return [Upload(f.name or "file", f.read(limit)) for f in request.FILES.getlist("attachment")]


def _user_name(request: HttpRequest) -> str:
    return str(getattr(request.user, "get_full_name", lambda: "")())


def _ticket(request: HttpRequest, pk: int) -> Ticket:
    found = selectors.get_ticket_for_client(client_of(request).pk, pk)
    if found is None:
        raise Http404
    return found


@client_view()
def ticket_list(request: HttpRequest) -> HttpResponse:
    tickets = selectors.list_tickets_for_client(client_of(request).pk).filter(
        merged_into__isnull=True
    )
    rows = [(t, client_label(t.status)) for t in tickets]
    return render(request, "web/support/list.html", {"rows": rows})


@client_view()
def ticket_new(request: HttpRequest) -> HttpResponse:
    client = client_of(request)
    departments = selectors.list_public_departments(list_provider_ids_for_client(client))
    services = selectors.list_client_services(client.pk)
    form = TicketForm(
        request.POST or None,
        request.FILES or None,
        departments=departments,
        services=services,
        initial={"service": request.GET.get("service", "")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = actions.open_ticket(
                department=departments.get(pk=int(data["department"])),
                client=client,
                subject=data["subject"],
                body=data["body"],
                priority=data["priority"],
                service_id=int(data["service"]) if data["service"] else None,
                uploads=_uploads(request),
                author_name=_user_name(request) or client.name,
                actor=actor_of(request),
            )
        except BillowError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your ticket #%(id)s was sent.") % {"id": ticket.pk})
            return redirect("web:ticket_detail", pk=ticket.pk)
    return render(request, "web/support/new.html", {"form": form})


@client_view()
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    reply = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and reply.is_valid():
        try:
            actions.post_client_message(
                ticket=ticket,
                body=reply.cleaned_data["body"],
                uploads=_uploads(request),
                author_name=_user_name(request) or client_of(request).name,
                actor=actor_of(request),
            )
        except BillowError as exc:
            reply.add_error(None, exc.message)
        else:
            messages.success(request, _("Your message was sent."))
            return redirect("web:ticket_detail", pk=ticket.pk)
    context = {
        "ticket": ticket,
        "status_label": client_label(ticket.status),
        "is_closed": ticket.status == TicketStatus.CLOSED,
        "conversation": selectors.list_public_messages(ticket),
        "reply": reply,
        "rate": RateForm(initial={"rating": ticket.rating or 5}),
    }
    return render(request, "web/support/detail.html", context)


@client_view()
def ticket_close(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    if request.method == "POST":
        try:
            actions.close_ticket(ticket=ticket, actor=actor_of(request), user=request.user)
        except BillowError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The ticket is closed. Please rate our answer."))
    return redirect("web:ticket_detail", pk=ticket.pk)


@client_view()
def ticket_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    if request.method == "POST":
        try:
            actions.reopen_ticket(ticket=ticket, actor=actor_of(request), user=request.user)
        except BillowError as exc:
            messages.error(request, exc.message)
    return redirect("web:ticket_detail", pk=ticket.pk)


@client_view()
def ticket_rate(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    form = RateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.rate_ticket(
                ticket=ticket,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                actor=actor_of(request),
            )
        except BillowError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Thank you for your rating."))
    return redirect("web:ticket_detail", pk=ticket.pk)


@client_view()
def ticket_attachment(request: HttpRequest, pk: int) -> FileResponse:
    found = selectors.get_client_attachment(client_of(request).pk, pk)
    if found is None:
        raise Http404
    return FileResponse(
        found.file.open("rb"),
        as_attachment=True,
        filename=found.name,
        content_type="application/octet-stream",
    )
