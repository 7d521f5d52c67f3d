"""What the migration import brought over: one record per source row, so a rerun is a no-op."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from billow.core import clock
from billow.core.audit import AuditEvent


class ImportedRecord(models.Model):
    """Source row (system, kind, id) -> the Billow row made from it and the fingerprint of the
    source row as last imported (a changed fingerprint is a *changed* row on the next run)."""

    source = models.CharField(_("source system"), max_length=50)
    kind = models.CharField(_("kind"), max_length=20)
    source_id = models.CharField(_("source id"), max_length=100)
    target_id = models.BigIntegerField(_("Billow id"), null=True, blank=True)
    fingerprint = models.CharField(max_length=40)
    imported_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("imported record")
        verbose_name_plural = _("imported records")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "source_id"], name="imported_record_unique_source_row"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.kind}:{self.source_id} -> {self.target_id}"


class ImportRun(AuditEvent):
    """One real import run: who ran it, the source and the counts (``data``)."""

    source = models.CharField(max_length=50)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
