"""The web app has no tables; :class:`StaffAccess` only carries staff permissions of the
interfaces (granted to staff roles in the admin's groups)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffAccess(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("impersonate_client", _("Can log in as a client"))]
        verbose_name = _("staff access")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
