"""Staff page: module instance -> Discovery -> Start. Lists VMs without a service, services
without a VM and system VMs, with the fixes (adopt, recreate, mark system). The page only
parses input and calls ``billow.services.discovery``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.decorators import action

from billow.accounts.models import Client
from billow.catalog.models import Tariff
from billow.core.actors import Actor
from billow.core.errors import BillowError
from billow.services import discovery
from billow.services.models import ModuleInstance, Service


class DiscoveryAdminMixin:
    """Adds the Discovery page to ``ModuleInstanceAdmin``."""

    actions_detail = ["discovery_detail"]
    admin_site: Any
    model: Any

    @action(description=_("Discovery"), url_path="discovery")
    def discovery_detail(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:services_moduleinstance_discovery", args=[object_id])
        )

    def get_urls(self) -> list[URLPattern]:
        page = path(
            "<path:object_id>/discovery/run/",
            self.admin_site.admin_view(self.discovery_view),
            name="services_moduleinstance_discovery",
        )
        return [page, *super().get_urls()]  # type: ignore[misc]

    def discovery_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the Start button. POST ``start`` runs discovery; ``adopt``, ``recreate``,
        ``mark_system`` apply one fix and run it again."""
        instance = get_object_or_404(ModuleInstance, pk=object_id)
        if not self.has_change_permission(request, instance):  # type: ignore[attr-defined]
            raise PermissionDenied
        report = None
        if request.method == "POST":
            fix = request.POST.get("do", "start")
            if fix != "start":
                _apply_fix(request, instance, fix)
            try:
                report = discovery.run_discovery(instance=instance)
            except BillowError as exc:
                messages.error(request, f"{exc.code}: {exc.message}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Discovery: %s") % instance,
            "instance": instance,
            "report": report,
            "tariffs": _tariffs(instance),
        }
        return TemplateResponse(request, "admin/services/discovery.html", context)


def _tariffs(instance: ModuleInstance) -> list[Tariff]:
    listed = list(instance.tariffs.all())
    if listed:
        return listed
    return list(Tariff.objects.filter(Q(product_type__in=instance.product_types.all())))


def _apply_fix(request: HttpRequest, instance: ModuleInstance, fix: str) -> None:
    actor = Actor.staff(request.user)
    data = request.POST
    try:
        if fix == "adopt":
            service = discovery.adopt_remote_object(
                instance=instance,
                external_id=data["external_id"],
                client=get_object_or_404(Client, pk=data.get("client_id") or 0),
                tariff=get_object_or_404(Tariff, pk=data.get("tariff_id") or 0),
                period=data.get("period", "1m"),
                currency=data.get("currency", "USD"),
                name=data.get("name", ""),
                parameters=_pairs(data.get("parameters", "")),
                actor=actor,
            )
            messages.success(request, _("Adopted as service #%s.") % service.pk)
        elif fix == "recreate":
            service = get_object_or_404(
                Service, pk=data.get("service_id") or 0, module_instance=instance
            )
            op = discovery.recreate_service_vm(service=service, actor=actor)
            messages.success(request, _("Recreate queued (operation #%s).") % op.pk)
        elif fix == "mark_system":
            discovery.mark_system(
                instance=instance,
                external_id=data["external_id"],
                name=data.get("name", ""),
                actor=actor,
            )
            messages.success(request, _("Marked as system."))
        else:
            messages.error(request, _("Unknown action."))
    except BillowError as exc:
        messages.error(request, f"{exc.code}: {exc.message}")
    except (KeyError, ValueError):
        messages.error(request, _("Incomplete form."))


def _pairs(text: str) -> dict[str, str]:
    """``"os=debian-12, panel=none"`` -> ``{"os": "debian-12", "panel": "none"}``."""
    pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs if k.strip()}
