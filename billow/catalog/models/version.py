"""One row whose token changes with every catalog write: the key of process-local caches."""

from __future__ import annotations

from django.db import models


class CatalogVersion(models.Model):
    """``token`` is replaced (never incremented) in the transaction of every catalog write.

    A random token rather than a counter: a rolled-back write restores the old token, and the
    next committed write draws a new one, so a value cached under a token that never committed
    can never match again (a counter would reach the same number twice).
    """

    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = "catalog version"

    def __str__(self) -> str:
        return self.token
