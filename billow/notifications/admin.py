"""Staff admin: templates are editable (checked and previewable), notifications and the outbox
are read-only; "resend" queues a fresh copy of an email through the action layer."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action

from billow.core.actors import Actor
from billow.notifications.actions import resend_email
from billow.notifications.forms import (
    MessageTemplateForm,
    PreviewForm,
    render_fields,
    sample_context,
)
from billow.notifications.models import MessageTemplate, Notification, OutboundEmail


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ModelAdmin):
    form = MessageTemplateForm
    list_display = ["event", "channel", "locale", "provider", "subject", "is_active"]
    list_filter = ["event", "channel", "locale", "provider", "is_active"]
    search_fields = ["subject", "body"]
    actions_detail = ["preview_detail"]

    @action(description=_("Preview"), url_path="preview")
    def preview_detail(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET renders the saved template; POST renders the posted text. Nothing is saved."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if not object_id.isdigit():
            raise Http404
        template = get_object_or_404(MessageTemplate, pk=int(object_id))
        initial = {f: getattr(template, f) for f in ("event", "locale", "subject", "body")}
        form = PreviewForm(
            request.POST
            if request.method == "POST"
            else initial | {"html_body": template.html_body}
        )
        rendered: dict[str, str] = {}
        if form.is_valid():
            data = form.cleaned_data
            rendered = render_fields(
                form, sample_context(data["event"], template.provider, data["locale"])
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Preview: %s") % template,
            "template_obj": template,
            "form": form,
            "rendered": rendered if form.is_valid() else {},
        }
        return TemplateResponse(request, "admin/notifications/preview.html", context)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["id", "client", "event", "title", "created_at", "read_at"]
    list_filter = ["event", "provider"]
    list_select_related = ["client"]
    search_fields = ["title", "client__name", "client__email", "dedup_key"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["id", "to", "subject", "event", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "event", "provider"]
    search_fields = ["to", "subject", "dedup_key"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["resend_action"]
    actions_detail = ["resend_detail"]

    def has_resend_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("notifications.change_outboundemail"))

    @admin.action(description=_("Resend selected emails"), permissions=["resend"])
    def resend_action(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        actor = Actor.staff(request.user)
        copies = [
            resend_email(outbound_id=pk, actor=actor)
            for pk in queryset.values_list("pk", flat=True)
        ]
        self.message_user(request, _("Queued %d email(s) again.") % len(copies), messages.SUCCESS)

    @action(description=_("Resend"), url_path="resend", permissions=["resend"])
    def resend_detail(self, request: HttpRequest, object_id: str) -> HttpResponse:
        copy = resend_email(outbound_id=int(object_id), actor=Actor.staff(request.user))
        self.message_user(request, _("Queued again as #%s.") % copy.pk, messages.SUCCESS)
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:notifications_outboundemail_change", args=[copy.pk])
        )
