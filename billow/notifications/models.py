"""Message templates, in-panel notifications and the email outbox (reference §1.18).

The outbox row is the source of truth for email: ``notify_*`` write it, the ``send_email`` job
claims and sends it, a janitor re-queues rows whose job was lost (Huey delivers at most once).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billow.accounts.models import Client, Provider
from billow.core import clock
from billow.notifications.events import Event


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    PANEL = "panel", _("In-panel notification")


class MessageTemplate(models.Model):
    """Text of one event on one channel in one language, for one provider or (no provider) for
    every provider without its own. Django template syntax; the body is plain text, the optional
    HTML body is autoescaped. At most one row per (provider, locale, event, channel)."""

    provider = models.ForeignKey(
        Provider,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="message_templates",
        verbose_name=_("provider"),
        help_text=_("Empty: the default for every provider without its own template."),
    )
    locale = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    subject = models.CharField(
        _("subject / title"), max_length=500, help_text=_("Django template; one line.")
    )
    body = models.TextField(_("text body"), help_text=_("Django template, plain text."))
    html_body = models.TextField(
        _("HTML body"), blank=True, help_text=_("Optional Django template (email only).")
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), default=clock.now)

    class Meta:
        ordering = ["event", "channel", "locale", "provider_id"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "locale", "event", "channel"],
                name="uniq_template_provider_locale_event_channel",
            ),
            # NULL provider rows are not equal in a unique index: a partial one covers defaults.
            models.UniqueConstraint(
                fields=["locale", "event", "channel"],
                condition=Q(provider__isnull=True),
                name="uniq_default_template_locale_event_channel",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="template_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        owner = self.provider.name if self.provider_id and self.provider else _("default")
        return f"{self.event}/{self.channel}/{self.locale} ({owner})"


class Notification(models.Model):
    """An in-panel message to a client. Written once; only ``read_at`` changes afterwards.
    A non-empty ``dedup_key`` is unique, so re-running the code that notifies adds nothing."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("client")
    )
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event = models.CharField(_("event"), max_length=40)
    title = models.CharField(_("title"), max_length=500)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), default=clock.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    dedup_key = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["client", "read_at", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["dedup_key"], condition=~Q(dedup_key=""), name="uniq_notification_dedup"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboundEmail(models.Model):
    """One email to one address, rendered when queued. ``queued`` rows are sent by the
    ``send_email`` job, which claims a row (``claimed_at``) before talking to the mail server so
    two workers never send it at once. ``sent`` and ``failed`` are final."""

    to = models.EmailField(_("to"))
    from_email = models.CharField(_("from"), max_length=254)
    #: where replies go (support tickets: an address carrying the ticket's signed token)
    reply_to = models.CharField(_("reply to"), max_length=254, blank=True, default="")
    subject = models.CharField(_("subject"), max_length=500)
    body = models.TextField(_("text body"))
    html = models.TextField(_("HTML body"), blank=True)
    event = models.CharField(_("event"), max_length=40, blank=True)
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    dedup_key = models.CharField(max_length=200, blank=True, default="")
    #: ``[{"kind": "invoice", "id": 12}]``: built when sent (``notifications.attachments``)
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    #: the language the attachments are rendered in (the recipient's)
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=clock.now)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=clock.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["dedup_key"], condition=~Q(dedup_key=""), name="uniq_outbound_email_dedup"
            ),
            models.CheckConstraint(
                condition=Q(status__in=EmailStatus.values), name="outbound_email_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=EmailStatus.SENT) | Q(sent_at__isnull=False),
                name="outbound_email_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"
