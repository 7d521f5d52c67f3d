"""Personal API tokens and stored idempotent responses."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billow.core import clock


class ApiToken(models.Model):
    """A personal API token of one user, limited to ``scopes``.

    Only a SHA-256 of the token is stored; the secret is shown once, when created. ``prefix`` is
    the public part of the token (``blw_<prefix>_<secret>``) used to find the row. A token acts
    with its user's rights narrowed by its scopes; revoked or expired tokens authenticate nothing.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    token_hash = models.CharField(_("SHA-256 of the token"), max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.name} (blw_{self.prefix}_…)"


class IdempotencyRecord(models.Model):
    """The stored outcome of one POST sent with an ``Idempotency-Key`` header.

    ``(user, key)`` is unique, so of two concurrent requests with one key exactly one runs.
    ``fingerprint`` is the SHA-256 of method, path and canonical body; a replay with the same
    fingerprint returns ``response_status`` / ``response_body``; another fingerprint is a 409.
    ``response_status`` is null while the first request runs.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("idempotency record")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="uniq_idempotency_user_key"),
            models.CheckConstraint(
                condition=Q(response_status__isnull=True) | Q(completed_at__isnull=False),
                name="idempotency_completed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class ThrottleCounter(models.Model):
    """Request counts of one throttle identity (``scope:ident``) in the current and previous
    fixed window; written with one upsert per request (``billow.api.throttling``)."""

    key = models.CharField(max_length=200, primary_key=True)
    window = models.BigIntegerField()
    count = models.IntegerField(default=0)
    previous = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("throttle counter")
        verbose_name_plural = _("throttle counters")

    def __str__(self) -> str:
        return self.key
