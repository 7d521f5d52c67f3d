"""The configuration journal in the staff admin (issue 13.5).

:func:`install_config_journal` (called once the admin registry is complete) gives every
configuration model's admin :class:`ConfigJournalMixin`: each save or delete of the object and
of its inline rows (a tariff's prices) goes through ``billow.core.journal.record_change`` with
the staff member, the IP address and a field-level diff, in the admin's transaction. The
object's "History" tab lists its journal; :class:`ConfigChangeAdmin` is the searchable journal
(filter by object type, staff member, date)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import display

from billow.core.actors import Actor
from billow.core.journal import client_ip, record_change, snapshot
from billow.core.models import ConfigChange
from billow.web import formatting

#: The models whose admin writes are configuration (app_label.ModelName). Catalog and
#: marketing count whole; elsewhere the named models.
CONFIG_APPS = frozenset({"catalog", "marketing"})
CONFIG_MODELS = frozenset(
    {
        "accounts.Provider",
        "accounts.ClientGroup",
        "auth.User",
        "auth.Group",
        "billing.BillingPolicy",
        "billing.ClientBillingSettings",
        "invoicing.TaxRule",
        "invoicing.ProviderTaxProfile",
        "notifications.MessageTemplate",
        "payments.PaymentMethod",
        "services.ModuleInstance",
        "support.Department",
        "support.CannedReply",
        "usage.Meter",
        "socialaccount.SocialApp",
    }
)
#: Written by clients or the system, not configuration, though in a configuration app.
NOT_CONFIG = frozenset(
    {
        "marketing.BonusAccount",
        "marketing.BonusMovement",
        "marketing.PromoCodeUse",
        "marketing.Referral",
        "marketing.ReferralEvent",
        "marketing.ReferralPartner",
        "marketing.ReferralPayout",
        "marketing.ReferralReward",
    }
)


def is_config_model(model: type[models.Model]) -> bool:
    label = model._meta.label
    if label in NOT_CONFIG:
        return False
    return model._meta.app_label in CONFIG_APPS or label in CONFIG_MODELS


def _actor(request: HttpRequest) -> Actor:
    return Actor.staff(request.user)


def _fresh_snapshots(model: type[models.Model], pks: list[Any]) -> dict[Any, dict[str, Any]]:
    rows = model._default_manager.filter(pk__in=[pk for pk in pks if pk is not None])
    return {row.pk: snapshot(row) for row in rows}


class ConfigJournalMixin:
    """Journals the admin's saves and deletes of the object and its inline rows."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = _fresh_snapshots(type(obj), [obj.pk]).get(obj.pk) if change else None
        request._journal_before = before  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)  # type: ignore[misc]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        inline_before = {
            id(fs): _fresh_snapshots(fs.model, [f.instance.pk for f in fs.initial_forms])
            for fs in formsets
        }
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        obj = form.instance
        actor, ip = _actor(request), client_ip(request.META)
        before = getattr(request, "_journal_before", None)
        record_change(actor=actor, obj=obj, before=before, after=snapshot(obj), ip=ip)
        for fs in formsets:
            old = inline_before[id(fs)]
            for row in fs.new_objects:
                record_change(
                    actor=actor, obj=row, before=None, after=snapshot(row), ip=ip, parent=obj
                )
            for row, _fields in fs.changed_objects:
                record_change(
                    actor=actor,
                    obj=row,
                    before=old.get(row.pk, {}),
                    after=snapshot(row),
                    ip=ip,
                    parent=obj,
                )
            for row in fs.deleted_objects:
                snap = old.get(row.pk) or snapshot(row)
                record_change(actor=actor, obj=row, before=snap, after=None, ip=ip, parent=obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        before, pk, text = snapshot(obj), obj.pk, str(obj)
        super().delete_model(request, obj)  # type: ignore[misc]
        obj.pk = pk  # Django clears it on delete; the journal keeps the id
        record_change(
            actor=_actor(request),
            obj=obj,
            before=before,
            after=None,
            ip=client_ip(request.META),
            object_repr=text,
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        rows = [(row, row.pk, str(row), snapshot(row)) for row in queryset]
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        actor, ip = _actor(request), client_ip(request.META)
        for row, pk, text, before in rows:
            row.pk = pk
            record_change(actor=actor, obj=row, before=before, after=None, ip=ip, object_repr=text)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The object's configuration journal (its own rows and its inline rows')."""
        model = self.model  # type: ignore[attr-defined]
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
        if obj is None or not self.has_view_or_change_permission(request, obj):  # type: ignore[attr-defined]
            return super().history_view(request, object_id, extra_context)  # type: ignore[misc]
        changes = list_changes_for_object(model, obj.pk)[:200]
        context = {
            **admin.site.each_context(request),
            "title": _("History: %s") % obj,
            "object": obj,
            "opts": model._meta,
            "changes": [describe(c) for c in changes],
            "journal_url": reverse("admin:core_configchange_changelist"),
        }
        return TemplateResponse(request, "web/admin/object_journal.html", context)


def list_changes_for_object(model: type[models.Model], pk: Any) -> QuerySet[ConfigChange]:
    ct = ContentType.objects.get_for_model(model, for_concrete_model=False)
    own = Q(content_type=ct, object_id=str(pk)) | Q(parent_type=ct, parent_id=str(pk))
    return ConfigChange.objects.filter(own).select_related("content_type", "staff_user")


@dataclass(frozen=True, slots=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ChangeView:
    change: ConfigChange
    fields: list[FieldChange]


def _shown(value: Any, currency: str) -> str:
    if value is None or value == "":
        return "—"
    if currency and isinstance(value, int) and not isinstance(value, bool):
        return formatting.money(value, currency)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def describe(change: ConfigChange) -> ChangeView:
    """A journal row as people read it: money fields formatted in their currency."""
    fields = [
        FieldChange(
            label=str(item.get("label") or item.get("field")),
            old=_shown(item.get("old"), item.get("currency", "")),
            new=_shown(item.get("new"), item.get("currency", "")),
        )
        for item in change.diff or []
    ]
    return ChangeView(change, fields)


class ConfigChangeAdmin(ModelAdmin):
    """The configuration journal: read-only, searchable, filtered by object and actor."""

    list_display = ["created_at", "actor_label", "ip", "action", "object_type", "object", "diff_"]
    list_filter = ["action", "content_type", "staff_user", "created_at"]
    search_fields = ["object_repr", "=object_id", "actor_label", "ip", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["content_type", "staff_user"]
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def lookup_allowed(self, lookup: str, value: str, request: Any = None) -> bool:
        # The per-object links filter by object id and parent (object_id=, parent_id=).
        if lookup in {"object_id", "parent_id", "parent_type__id__exact"}:
            return True
        return super().lookup_allowed(lookup, value, request)

    @display(description=gettext_lazy("object type"), ordering="content_type")
    def object_type(self, obj: ConfigChange) -> str:
        return str(obj.content_type.model_class()._meta.verbose_name).capitalize()  # type: ignore[union-attr]

    @display(description=gettext_lazy("object"), ordering="object_repr")
    def object(self, obj: ConfigChange) -> str:
        return f"{obj.object_repr} (#{obj.object_id})"

    @display(description=gettext_lazy("changes"))
    def diff_(self, obj: ConfigChange) -> str:
        view = describe(obj)
        return format_html_join(
            mark_safe("<br>"),
            "{}: {} → {}",
            ((f.label, f.old, f.new) for f in view.fields),
        )


def _journalled(admin_class: type[Any]) -> type[Any]:
    return type(admin_class.__name__, (ConfigJournalMixin, admin_class), {})


def install_config_journal(site: admin.AdminSite) -> None:
    """Give every registered configuration model's admin the journal (idempotent)."""
    for model, model_admin in list(site._registry.items()):
        if not is_config_model(model) or isinstance(model_admin, ConfigJournalMixin):
            continue
        site.unregister(model)
        site.register(model, _journalled(type(model_admin)))
    if ConfigChange not in site._registry:
        site.register(ConfigChange, ConfigChangeAdmin)
