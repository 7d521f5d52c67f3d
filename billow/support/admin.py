"""The staff side: the queue (filters, SLA column with breach highlighting), the conversation
page (reply, note, canned replies, assign to me, close, reopen, move, priority, merge, suspend
for abuse) with the client's services and balances beside it; departments, canned replies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from billow.core import clock
from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.support import actions, selectors
from billow.support.attachments import Upload
from billow.support.canned import PLACEHOLDERS, placeholder_values, render_canned
from billow.support.models import (
    Attachment,
    CannedReply,
    Department,
    InboundEmail,
    SlaTarget,
    Ticket,
)
from billow.support.sla import SlaState
from billow.support.states import Priority, TicketStatus, staff_label

SLA_LABELS = {
    SlaState.BREACHED: _("Breached"),
    SlaState.DUE_SOON: _("Due soon"),
    SlaState.OK: _("On time"),
    SlaState.MET: _("Met"),
    SlaState.NONE: _("—"),
}
SLA_CLASSES = {
    SlaState.BREACHED: "bg-red-100 text-red-700 dark:bg-red-500/20 dark:text-red-400",
    SlaState.DUE_SOON: "bg-orange-100 text-orange-700 dark:bg-orange-500/20 dark:text-orange-400",
    SlaState.OK: "bg-green-100 text-green-700 dark:bg-green-500/20 dark:text-green-400",
    SlaState.MET: "bg-base-100 text-base-700 dark:bg-base-500/20 dark:text-base-200",
    SlaState.NONE: "",
}


class SlaTargetInline(TabularInline):
    model = SlaTarget
    extra = 0


@admin.register(Department)
class DepartmentAdmin(ModelAdmin):
    list_display = ["name", "provider", "email", "is_public", "is_abuse", "default_assignee"]
    list_filter = ["is_public", "is_abuse", "provider"]
    filter_horizontal = ["members"]
    inlines = [SlaTargetInline]


@admin.register(CannedReply)
class CannedReplyAdmin(ModelAdmin):
    list_display = ["title", "scope", "department", "owner"]
    list_filter = ["scope", "department"]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        names = ", ".join("{{ %s }}" % p for p in PLACEHOLDERS)  # noqa: UP031
        form.base_fields["body"].help_text = _("Placeholders: %s") % names
        return form


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assignee")
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("me", _("Me")), ("none", _("Nobody"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        f = selectors.QueueFilter(assignee=self.value() or "")
        return selectors.filter_queue(queryset, f, user=request.user, now=clock.now())


class WaitingFilter(admin.SimpleListFilter):
    title = _("waiting for staff")
    parameter_name = "waiting"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("0", _("Any time")),
            ("60", _("Over 1 hour")),
            ("240", _("Over 4 hours")),
            ("1440", _("Over a day")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        f = selectors.QueueFilter(waiting_over_minutes=int(value))
        return selectors.filter_queue(queryset, f, user=request.user, now=clock.now())


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}))
    attachment = forms.FileField(label=_("Attachment"), required=False)


@admin.register(Ticket)
class TicketAdmin(ModelAdmin):
    list_display = [
        "id",
        "subject",
        "requester",
        "department",
        "staff_status",
        "priority",
        "assignee",
        "waiting",
        "sla",
    ]
    list_display_links = ["id", "subject"]
    list_filter = ["status", "priority", "department", AssigneeFilter, WaitingFilter]
    search_fields = ["subject", "client__name", "client__email", "requester_email"]
    list_select_related = ["department", "client", "assignee"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ticket]:
        return selectors.list_tickets_for_staff(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("client"))
    def requester(self, obj: Ticket) -> str:
        return obj.client.name if obj.client else obj.requester_email

    @admin.display(description=_("status"), ordering="status")
    def staff_status(self, obj: Ticket) -> str:
        return staff_label(obj.status)

    @admin.display(description=_("waiting"), ordering="waiting_since")
    def waiting(self, obj: Ticket) -> str:
        if obj.waiting_since is None:
            return "—"
        return _short_duration(clock.now() - obj.waiting_since)

    @admin.display(description=_("SLA"))
    def sla(self, obj: Ticket) -> str:
        state = selectors.ticket_sla_state(obj, clock.now())
        due = selectors.next_deadline(obj)
        when = timezone.localtime(due).strftime("%Y-%m-%d %H:%M") if due else ""
        return format_html(
            '<span class="sla sla-{} inline-block font-semibold px-2 py-0.5 rounded-default '
            'text-xxs uppercase {}" title="{}">{}</span> {}',
            state.value,
            SLA_CLASSES[state],
            when,
            SLA_LABELS[state],
            when,
        )

    # --- the conversation page ----------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        extra = [
            path(
                "attachment/<int:attachment_id>/",
                self.admin_site.admin_view(self.attachment_view),
                name=f"{name}_attachment",
            ),
        ]
        return [*extra, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        ticket = (
            self.get_queryset(request).filter(pk=object_id).first() if object_id.isdigit() else None
        )
        if ticket is None:
            raise Http404
        if request.method == "POST":
            if not self.has_change_permission(request, ticket):
                raise PermissionDenied
            return self._handle_post(request, ticket)
        return self._render(request, ticket, ReplyForm(initial=self._canned(request, ticket)))

    def _canned(self, request: HttpRequest, ticket: Ticket) -> dict[str, str]:
        canned_id = request.GET.get("canned", "")
        if not canned_id.isdigit():
            return {}
        canned = (
            selectors.list_canned_replies(request.user, ticket.department_id)
            .filter(pk=int(canned_id))
            .first()
        )
        if canned is None:
            return {}
        values = placeholder_values(
            ticket,
            staff_name=str(getattr(request.user, "get_full_name", str)() or request.user),
            service_name=_service_name(ticket),
        )
        return {"body": render_canned(canned.body, values)}

    def _render(self, request: HttpRequest, ticket: Ticket, form: ReplyForm) -> HttpResponse:
        now = clock.now()
        state = selectors.ticket_sla_state(ticket, now)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"#{ticket.pk} {ticket.subject}",
            "ticket": ticket,
            "status_label": staff_label(ticket.status),
            "sla_state": state.value,
            "sla_label": SLA_LABELS[state],
            "sla_class": SLA_CLASSES[state],
            "next_deadline": selectors.next_deadline(ticket),
            "messages_list": selectors.list_all_messages(ticket),
            "panel": selectors.get_client_panel(ticket),
            "form": form,
            "canned": selectors.list_canned_replies(request.user, ticket.department_id),
            "departments": Department.objects.exclude(pk=ticket.department_id),
            "members": ticket.department.members.filter(is_active=True, is_staff=True),
            "priorities": Priority.choices,
            "is_closed": ticket.status == TicketStatus.CLOSED,
            "abuse": ticket.department.is_abuse or ticket.is_abuse,
            "attachment_url": f"admin:{self.opts.app_label}_{self.opts.model_name}_attachment",
        }
        return TemplateResponse(request, "admin/support/ticket/conversation.html", context)

    def _handle_post(self, request: HttpRequest, ticket: Ticket) -> HttpResponse:
        op = request.POST.get("op", "")
        user = request.user
        form = ReplyForm(request.POST, request.FILES)
        try:
            if op in {"reply", "note"}:
                if not form.is_valid():
                    return self._render(request, ticket, form)
                uploads = [
                    Upload(f.name or "file", f.read(_max_read()))
                    for f in request.FILES.getlist("attachment")
                ]
                body = form.cleaned_data["body"]
                if op == "reply":
                    actions.post_staff_reply(ticket=ticket, user=user, body=body, uploads=uploads)
                else:
                    actions.add_internal_note(ticket=ticket, user=user, body=body, uploads=uploads)
            elif op == "assign_me":
                actions.assign_ticket(ticket=ticket, user=user, assignee=user)
            elif op == "assign":
                members = ticket.department.members.filter(is_active=True, is_staff=True)
                assignee = members.filter(pk=_int(request.POST.get("assignee"))).first()
                actions.assign_ticket(ticket=ticket, user=user, assignee=assignee)
            elif op == "close":
                actions.close_ticket(ticket=ticket, actor=Actor.staff(user), user=user)
            elif op == "reopen":
                actions.reopen_ticket(ticket=ticket, actor=Actor.staff(user), user=user)
            elif op == "move":
                department = get_object_or_404(Department, pk=request.POST.get("department"))
                actions.move_ticket(ticket=ticket, user=user, department=department)
            elif op == "priority":
                actions.set_ticket_priority(
                    ticket=ticket, user=user, priority=request.POST.get("priority", "")
                )
            elif op == "merge":
                target = (
                    self.get_queryset(request).filter(pk=_int(request.POST.get("target"))).first()
                )
                if target is None:
                    raise Http404
                actions.merge_tickets(source=ticket, target=target, user=user)
                return HttpResponseRedirect(self._url(target))
            elif op == "abuse":
                actions.suspend_service_for_abuse(
                    ticket=ticket,
                    service_id=_int(request.POST.get("service")),
                    user=user,
                    message=request.POST.get("body", ""),
                )
                self.message_user(request, _("The service is being suspended for abuse."))
            else:
                raise Http404
        except BillowError as exc:
            self.message_user(request, f"{exc.message} ({exc.code})", messages.ERROR)
            if op in {"reply", "note"}:
                return self._render(request, ticket, form)
        return HttpResponseRedirect(self._url(ticket))

    def _url(self, ticket: Ticket) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[ticket.pk]
        )

    def attachment_view(self, request: HttpRequest, attachment_id: int) -> FileResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        found = Attachment.objects.filter(
            pk=attachment_id, message__ticket__in=self.get_queryset(request)
        ).first()
        if found is None:
            raise Http404
        return _file_response(found)


def _file_response(found: Attachment) -> FileResponse:
    return FileResponse(
        found.file.open("rb"),
        as_attachment=True,
        filename=found.name,
        content_type="application/octet-stream",
    )


def _max_read() -> int:
    from django.conf import settings

    return int(settings.SUPPORT_ATTACHMENT_MAX_BYTES) + 1


def _int(value: Any) -> int:
    return int(value) if str(value or "").isdigit() else 0


def _service_name(ticket: Ticket) -> str:
    if ticket.service_id is None or ticket.client_id is None:
        return ""
    for row in selectors.list_client_services(ticket.client_id):
        if row["id"] == ticket.service_id:
            return str(row["name"] or f"{row['tariff__name']} #{row['id']}")
    return ""


def _short_duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{hours // 24} d {hours % 24} h"


@admin.register(InboundEmail)
class InboundEmailAdmin(ModelAdmin):
    list_display = ["received_at", "sender", "recipient", "subject", "outcome", "ticket"]
    list_filter = ["outcome"]
    search_fields = ["sender", "subject", "message_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
