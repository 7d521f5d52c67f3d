"""Reads: template books, recipients, and a client's in-panel notifications."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Min, QuerySet

from billow.accounts.models import Client, Provider
from billow.notifications.models import EmailStatus, MessageTemplate, Notification, OutboundEmail
from billow.notifications.rendering import TemplateBook, TemplateSource
from billow.services.models import Service


def get_template_book(*, event: str) -> TemplateBook:
    """Every active stored template of ``event`` (one query; a handful of rows per provider)."""
    rows = MessageTemplate.objects.filter(event=event, is_active=True)
    book = TemplateBook(event=event)
    for row in rows:
        book.rows[(row.provider_id, row.locale, row.channel)] = TemplateSource(
            row.subject, row.body, row.html_body, f"db:{row.pk}"
        )
    return book


def get_clients_info(client_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """What templates may see of each client, by id (missing ids are absent)."""
    fields = ("id", "name", "email", "contact_person", "language")
    return {row["id"]: row for row in Client.objects.filter(pk__in=client_ids).values(*fields)}


def get_providers_info(provider_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """What templates may see of each provider, by id, plus its ``email`` (for From)."""
    fields = ("id", "name", "billing_url", "site_url", "support_email", "email")
    return {row["id"]: row for row in Provider.objects.filter(pk__in=provider_ids).values(*fields)}


def get_default_provider_ids(client_ids: Collection[int]) -> dict[int, int]:
    """Each client's first provider (lowest id): used when a caller names none."""
    through = Client.providers.through.objects.filter(client_id__in=client_ids)
    rows = through.values("client_id").annotate(first=Min("provider_id"))
    return {row["client_id"]: row["first"] for row in rows}


def get_service_names(service_ids: Collection[int]) -> dict[int, str]:
    """Display names of services: their name, else "<tariff> #<id>"."""
    rows = Service.objects.filter(pk__in=service_ids).values_list("id", "name", "tariff__name")
    return {pk: name or f"{tariff} #{pk}" for pk, name, tariff in rows}


def list_staff_emails() -> list[str]:
    """``settings.BILLOW_STAFF_EMAILS`` if set, else the emails of active superusers."""
    configured = getattr(settings, "BILLOW_STAFF_EMAILS", None)
    if configured:
        return list(dict.fromkeys(configured))
    users = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    return list(dict.fromkeys(users.order_by("pk").values_list("email", flat=True)))


def list_notifications_for_client(
    *, client_id: int, unread_only: bool = False
) -> QuerySet[Notification]:
    """A client's in-panel notifications, newest first."""
    rows = Notification.objects.filter(client_id=client_id)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-id")


def count_unread_for_client(*, client_id: int) -> int:
    return Notification.objects.filter(client_id=client_id, read_at__isnull=True).count()


def list_pending_email_ids(*, limit: int | None = None) -> list[int]:
    """Queued outbox rows, oldest first (for the inline flush)."""
    rows = OutboundEmail.objects.filter(status=EmailStatus.QUEUED).order_by("created_at", "pk")
    ids = rows.values_list("pk", flat=True)
    return list(ids[:limit] if limit else ids)
