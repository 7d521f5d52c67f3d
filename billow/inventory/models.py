"""Inventory tables: what parts exist (``ComponentModel``), where each physical part is
(``StockItem``), which servers are assembled (``ReadyServer``), and where parts come from
(``Supplier``, ``Delivery``). Services are referred to by id only: inventory sits below
services in the layers (it is catalog-like data that services and orders read)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billow.core import clock
from billow.services.models import Task


class ComponentKind(models.TextChoices):
    CHASSIS = "chassis", _("Chassis")
    CPU = "cpu", _("Processor")
    RAM = "ram", _("Memory module")
    DISK = "disk", _("Drive")
    NIC = "nic", _("Network card")
    RAID = "raid", _("RAID controller")
    GPU = "gpu", _("GPU")


class MemoryType(models.TextChoices):
    NONE = "", _("—")
    DDR4 = "DDR4", "DDR4"
    DDR5 = "DDR5", "DDR5"


class ComponentModel(models.Model):
    """One orderable part model with the specs the compatibility check reads. Chassis carry
    the board's limits (socket, sockets, memory type, slots, maximum, bays, PCIe slots, PSU);
    parts carry what they need (socket, memory type, capacity, drive form factor, TDP)."""

    kind = models.CharField(_("kind"), max_length=10, choices=ComponentKind.choices)
    name = models.CharField(_("name"), max_length=200, unique=True)
    vendor = models.CharField(_("vendor"), max_length=100, blank=True, default="")
    socket = models.CharField(_("CPU socket"), max_length=40, blank=True, default="")
    memory_type = models.CharField(
        _("memory type"), max_length=4, choices=MemoryType.choices, blank=True, default=""
    )
    form_factor = models.CharField(
        _("form factor"),
        max_length=20,
        blank=True,
        default="",
        help_text=_('Chassis: "1U", "2U" ...; drives: "2.5" or "3.5".'),
    )
    capacity_gb = models.PositiveIntegerField(_("capacity (GB)"), default=0)
    tdp_watts = models.PositiveIntegerField(_("power draw (W)"), default=0)
    cpu_sockets = models.PositiveSmallIntegerField(_("CPU sockets"), default=0)
    ram_slots = models.PositiveSmallIntegerField(_("memory slots"), default=0)
    max_ram_gb = models.PositiveIntegerField(_("memory maximum (GB)"), default=0)
    drive_bays = models.PositiveSmallIntegerField(_("drive bays"), default=0)
    drive_form_factor = models.CharField(
        _("drive bay form factor"), max_length=8, blank=True, default=""
    )
    pcie_slots = models.PositiveSmallIntegerField(_("PCIe slots"), default=0)
    psu_watts = models.PositiveIntegerField(_("power supply (W)"), default=0)
    monthly_price_minor = models.BigIntegerField(_("monthly price (minor units)"), default=0)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    is_active = models.BooleanField(_("offered"), default=True)
    specs = models.JSONField(_("other specs"), default=dict, blank=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("component model")
        verbose_name_plural = _("component models")
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_price_minor__gte=0), name="component_price_non_negative"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    """A data center / warehouse; ``dci_location_id`` is DCImanager 6's location id."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    dci_location_id = models.PositiveIntegerField(
        _("DCImanager location id"), null=True, blank=True
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")

    def __str__(self) -> str:
        return self.name


class ServerStatus(models.TextChoices):
    FREE = "free", _("Free")
    RESERVED = "reserved", _("Reserved")
    IN_USE = "in_use", _("In use")
    MAINTENANCE = "maintenance", _("Under maintenance")
    GONE = "gone", _("Gone from DCImanager")


class ReadyServer(models.Model):
    """An assembled server: its chassis, configuration name (DCImanager's ``configuration``)
    and parts (``StockItem.server``). ``service_id`` is the service it is reserved for or
    serves."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="servers")
    name = models.CharField(_("name"), max_length=200)
    configuration = models.CharField(_("configuration"), max_length=200, db_index=True)
    chassis = models.ForeignKey(
        ComponentModel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ServerStatus.choices, default=ServerStatus.FREE
    )
    reserved_until = models.DateTimeField(_("reserved until"), null=True, blank=True)
    service_id = models.BigIntegerField(_("service"), null=True, blank=True, db_index=True)
    dci_server_id = models.PositiveIntegerField(
        _("DCImanager server id"), null=True, blank=True, unique=True
    )
    owner_email = models.CharField(_("owner in DCImanager"), max_length=200, blank=True, default="")
    barcode = models.CharField(_("barcode"), max_length=100, blank=True, default="")
    hardware_info = models.JSONField(_("hardware info"), default=dict, blank=True)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("ready server")
        verbose_name_plural = _("ready servers")
        indexes = [
            models.Index(fields=["configuration", "status"], name="server_config_status_idx")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.configuration})"


class StockStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    RESERVED = "reserved", _("Reserved")
    IN_SERVER = "in_server", _("In a server")
    WRITTEN_OFF = "written_off", _("Written off")
    BROKEN = "broken", _("Broken")
    MAINTENANCE = "maintenance", _("Under maintenance")


class StockItem(models.Model):
    """One physical part. ``reserved`` parts carry ``reserved_until`` (then they are free again)
    and the service they are held for; ``in_server`` parts name their server."""

    model = models.ForeignKey(ComponentModel, on_delete=models.PROTECT, related_name="stock")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock")
    serial = models.CharField(_("serial number or barcode"), max_length=100, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=12, choices=StockStatus.choices, default=StockStatus.IN_STOCK
    )
    reserved_until = models.DateTimeField(_("reserved until"), null=True, blank=True)
    service_id = models.BigIntegerField(_("reserved for service"), null=True, blank=True)
    server = models.ForeignKey(
        ReadyServer, null=True, blank=True, on_delete=models.SET_NULL, related_name="parts"
    )
    delivery = models.ForeignKey(
        "Delivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("stock item")
        verbose_name_plural = _("stock items")
        indexes = [models.Index(fields=["model", "location", "status"], name="stock_free_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["serial"], condition=~Q(serial=""), name="stock_serial_unique"
            ),
            models.CheckConstraint(
                condition=~Q(status="reserved") | Q(reserved_until__isnull=False),
                name="stock_reservation_has_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} #{self.pk}"


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    contact = models.TextField(_("contact"), blank=True, default="")

    class Meta:
        ordering = ["name"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class Delivery(models.Model):
    """Parts ordered from a supplier into a location (DCImanager warehouse's fields)."""

    name = models.CharField(_("name"), max_length=200)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="deliveries")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    ordered_on = models.DateField(_("date"))
    expected_on = models.DateField(_("estimated delivery date"), null=True, blank=True)
    delivered_on = models.DateField(_("actual delivery date"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, default="")

    class Meta:
        ordering = ["-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return self.name


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="lines")
    model = models.ForeignKey(ComponentModel, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="delivery_line_quantity")
        ]

    def __str__(self) -> str:
        return f"{self.quantity}x {self.model}"


class DedicatedTask(Task):
    """The procurement and assembly Tasks of dedicated services waiting for a server (a proxy
    of ``services.Task``: the inventory's staff page completes them through
    ``dedicated.complete_dedicated_task``, which provisions the server after the last one)."""

    class Meta:
        proxy = True
        verbose_name = _("dedicated server task")
        verbose_name_plural = _("dedicated server tasks")
