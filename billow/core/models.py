"""core's one table: the configuration journal (:class:`ConfigChange`, written through
``billow.core.journal.record_change``). Abstract bases other apps build on live in ``audit``."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billow.core import clock
from billow.core.actors import ACTOR_ID_MAX_LENGTH, ACTOR_KIND_CHOICES


class ChangeAction(models.TextChoices):
    CREATED = "created", _("Created")
    CHANGED = "changed", _("Changed")
    DELETED = "deleted", _("Deleted")


class ConfigChange(models.Model):
    """One write to configuration (catalog, prices, taxes, promotions, payment methods, module
    instances, credit terms, staff roles, settings): who (actor, and the staff user when it is
    one), when, from which IP, which object, and ``diff``: a list of ``{"field", "label",
    "old", "new"}`` with the stored values (money fields carry ``"currency"`` so the journal
    shows them formatted). Written once, never edited; the object's id and text stay when the
    object is deleted."""

    created_at = models.DateTimeField(_("time"), default=clock.now, db_index=True)
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ACTOR_KIND_CHOICES)
    actor_id = models.CharField(max_length=ACTOR_ID_MAX_LENGTH, blank=True, default="")
    actor_label = models.CharField(_("actor"), max_length=150, blank=True, default="")
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("staff member"),
    )
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=8, choices=ChangeAction.choices)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("object type")
    )
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200)
    # An inline row (a tariff's price) is journalled as itself and under its parent (the
    # tariff), so the parent's history shows it.
    parent_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    parent_id = models.CharField(max_length=64, blank=True, default="")
    diff = models.JSONField(_("changes"), default=list, blank=True, encoder=DjangoJSONEncoder)
    reason = models.CharField(_("via"), max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("configuration change")
        verbose_name_plural = _("configuration journal")
        indexes = [
            models.Index(fields=["content_type", "object_id", "created_at"]),
            models.Index(fields=["actor_kind", "actor_id", "created_at"]),
            models.Index(fields=["parent_type", "parent_id", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=ChangeAction.values), name="configchange_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr} by {self.actor_label or self.actor_kind}"
