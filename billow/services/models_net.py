"""IP address pools of module instances (VPS hosts) and the addresses handed out from them.

An address is allocated to at most one live service at a time: the partial unique constraint
(pool, address) over unreleased rows is the guarantee, the pool row lock in
``ip_pools.allocate_addresses`` keeps concurrent allocations from colliding on it. Released
rows stay as history (who had which address when).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billow.core import clock


class IpPool(models.Model):
    """A range of IPv4 or IPv6 addresses a module instance gives its VMs (one per VM and
    version), with what the guest needs to use them (prefix, gateway, DNS)."""

    module_instance = models.ForeignKey(
        "services.ModuleInstance", on_delete=models.PROTECT, related_name="ip_pools"
    )
    name = models.CharField(_("name"), max_length=100)
    version = models.PositiveSmallIntegerField(
        _("IP version"), choices=[(4, "IPv4"), (6, "IPv6")], default=4
    )
    network = models.CharField(_("network (CIDR)"), max_length=64, help_text="10.0.2.0/24")
    first_address = models.CharField(_("first address"), max_length=45)
    last_address = models.CharField(_("last address"), max_length=45)
    gateway = models.CharField(_("gateway"), max_length=45, blank=True, default="")
    dns = models.CharField(
        _("DNS servers"), max_length=200, blank=True, default="", help_text=_("Comma separated.")
    )
    priority = models.PositiveIntegerField(_("priority (lower first)"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["module_instance", "priority", "id"]
        verbose_name = _("IP pool")
        verbose_name_plural = _("IP pools")
        constraints = [
            models.UniqueConstraint(
                fields=["module_instance", "name"], name="ip_pool_unique_name_per_instance"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.network})"


class IpAllocation(models.Model):
    """One address of a pool given to a service; ``released_at`` set when the VM is deleted."""

    pool = models.ForeignKey(IpPool, on_delete=models.PROTECT, related_name="allocations")
    address = models.CharField(_("address"), max_length=45)
    service = models.ForeignKey(
        "services.Service", on_delete=models.PROTECT, related_name="ip_allocations"
    )
    allocated_at = models.DateTimeField(default=clock.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pool", "id"]
        verbose_name = _("IP address allocation")
        verbose_name_plural = _("IP address allocations")
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "address"],
                condition=Q(released_at__isnull=True),
                name="ip_allocation_unique_live_address",
            )
        ]
        indexes = [models.Index(fields=["service", "released_at"], name="ip_alloc_service")]

    def __str__(self) -> str:
        return self.address
