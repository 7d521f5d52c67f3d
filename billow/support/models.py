"""Departments, tickets, messages, attachments, canned replies and the ticket audit trail.

Only ``billow.support.actions`` writes these rows. A ticket's status is one column with two
labels: what the client sees and what staff see (``states.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billow.accounts.models import Client, Provider
from billow.core import clock
from billow.core.audit import AuditEvent
from billow.support.states import Priority, TicketStatus


def default_business_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday, 09:00-18:00 (weekday 0 is Monday)."""
    return {str(day): [["09:00", "18:00"]] for day in range(5)}


class Department(models.Model):
    """Where tickets go. Staff see only the tickets of departments they are members of
    (superusers see all). ``email`` is the receiving address: mail from an unknown sender to it
    opens a ticket here. SLA timers count ``business_hours`` only (empty: around the clock)."""

    provider = models.ForeignKey(
        Provider,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="support_departments",
        verbose_name=_("provider"),
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(
        _("receiving address"),
        blank=True,
        help_text=_("Mail to this address from an unknown sender opens a ticket here."),
    )
    is_public = models.BooleanField(
        _("shown to clients"),
        default=True,
        help_text=_("Off: an internal department (staff move tickets into it)."),
    )
    is_abuse = models.BooleanField(
        _("abuse department"),
        default=False,
        help_text=_("Its tickets offer suspending a service for abuse in one step."),
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    business_hours = models.JSONField(
        _("business hours"),
        default=default_business_hours,
        blank=True,
        help_text=_('Weekday (0 = Monday) to periods, e.g. {"0": [["09:00", "18:00"]]}.'),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="support_departments",
        verbose_name=_("staff members"),
    )
    default_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("default assignee"),
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=~Q(email=""), name="uniq_department_email"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    """How soon a department answers and resolves tickets of one priority, in business
    minutes (0: no target)."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="sla_targets")
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(_("first response (minutes)"), default=0)
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"), default=0)

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [
            models.UniqueConstraint(fields=["department", "priority"], name="uniq_sla_target"),
        ]

    def __str__(self) -> str:
        return f"{self.department_id}/{self.priority}"


class Ticket(models.Model):
    """A conversation between a client (or an unknown sender: ``requester_email`` only) and a
    department. ``merged_into`` is set on a ticket whose messages moved into another."""

    client = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("client"),
    )
    requester_email = models.EmailField(_("requester email"), blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("department")
    )
    service_id = models.BigIntegerField(_("service"), null=True, blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=12, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    is_abuse = models.BooleanField(_("abuse report"), default=False)
    created_at = models.DateTimeField(_("opened at"), default=clock.now)
    updated_at = models.DateTimeField(_("updated at"), default=clock.now)
    #: when the client's oldest unanswered message came in (None: nothing waits for staff)
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["department", "status", "updated_at"]),
            models.Index(fields=["client", "updated_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=TicketStatus.values), name="ticket_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values), name="ticket_priority_valid"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="ticket_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(client__isnull=False) | ~Q(requester_email=""),
                name="ticket_has_requester",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class AuthorKind(models.TextChoices):
    CLIENT = "client", _("Client")
    STAFF = "staff", _("Staff")
    SYSTEM = "system", _("System")


class Source(models.TextChoices):
    WEB = "web", _("Web")
    EMAIL = "email", _("Email")
    API = "api", _("API")


class TicketMessage(models.Model):
    """One message or internal note (``is_internal``: staff only, never emailed to the client).
    ``email_message_id`` is the Message-ID of the email it came from: the same email twice
    adds one message."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(max_length=8, choices=AuthorKind.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200, blank=True)
    body = models.TextField(_("message"))
    is_internal = models.BooleanField(_("internal note"), default=False)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.WEB)
    email_message_id = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        constraints = [
            models.UniqueConstraint(
                fields=["email_message_id"],
                condition=~Q(email_message_id=""),
                name="uniq_ticket_message_email_id",
            ),
            models.CheckConstraint(
                condition=Q(author_kind__in=AuthorKind.values), name="ticket_message_author_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.pk}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The name a client chose is kept in ``name``; the stored path never uses it.
    return f"support/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """A file on a message, stored through Django's storage API (S3 in production). Served only
    through views that check the ticket is the caller's."""

    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class CannedScope(models.TextChoices):
    EVERYONE = "everyone", _("All staff")
    DEPARTMENT = "department", _("One department")
    PERSONAL = "personal", _("Personal")


class CannedReply(models.Model):
    """A ready answer. Placeholders such as ``{{ client.name }}`` are filled in a sandbox
    (``canned.render_canned``): a fixed list of plain values, no tags, no method calls."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    scope = models.CharField(
        _("shared with"), max_length=10, choices=CannedScope.choices, default=CannedScope.EVERYONE
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_replies"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        constraints = [
            models.CheckConstraint(
                condition=~Q(scope=CannedScope.DEPARTMENT) | Q(department__isnull=False),
                name="canned_department_scope_has_department",
            ),
            models.CheckConstraint(
                condition=~Q(scope=CannedScope.PERSONAL) | Q(owner__isnull=False),
                name="canned_personal_scope_has_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TicketEvent(AuditEvent):
    """Who did what to a ticket (opened, replied, assigned, moved, merged, closed ...)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")


class InboundEmail(models.Model):
    """Every email the gateway received and what became of it (a message, or why not)."""

    message_id = models.CharField(max_length=300, blank=True)
    sender = models.CharField(max_length=300, blank=True)
    recipient = models.CharField(max_length=300, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=40)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")

    def __str__(self) -> str:
        return f"{self.sender}: {self.outcome}"
