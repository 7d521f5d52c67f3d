"""Services (a client's instance of a tariff), their events, module instances, operations, tasks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billow.core import clock
from billow.core.audit import AuditEvent
from billow.core.periods import BILLING_MODE_CHOICES, PERIOD_CHOICES
from billow.services.states import ServiceStatus, SubState


class ModuleInstance(models.Model):
    """A configured processing module: e.g. one libvirt host. Several may serve one tariff;
    the lowest ``priority`` that is active and serves the tariff is chosen first."""

    module = models.CharField(_("module"), max_length=50, help_text=_("Registry key"))
    name = models.CharField(_("name"), max_length=200, unique=True)
    priority = models.PositiveIntegerField(_("priority (lower first)"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    department = models.CharField(
        _("department for tasks"), max_length=100, default="support", blank=True
    )
    config = models.JSONField(_("settings"), default=dict, blank=True)
    secrets_encrypted = models.TextField(
        _("secrets (encrypted)"), blank=True, default="", editable=False
    )
    product_types = models.ManyToManyField(
        "catalog.ProductType", related_name="module_instances", blank=True
    )
    tariffs = models.ManyToManyField(
        "catalog.Tariff",
        related_name="module_instances",
        blank=True,
        help_text=_("Empty: every tariff of its product types."),
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("processing module")
        verbose_name_plural = _("processing modules")

    def __str__(self) -> str:
        return f"{self.name} ({self.module})"


class Service(models.Model):
    """One client's instance of a tariff.

    Billing dates are plain dates; ``paid_until`` is exclusive (the first day not yet paid);
    hourly services use ``paid_until_at`` (the first hour not yet paid) instead.
    ``anchor_day`` keeps anniversary renewals on the order day across short months.
    Status changes go through the table in ``states``: one service at a time with
    ``actions.transition_service``, in bulk with ``actions.apply_transitions``; no other app
    writes this row.
    """

    client = models.ForeignKey("accounts.Client", on_delete=models.PROTECT, related_name="services")
    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.PROTECT, related_name="services"
    )
    tariff = models.ForeignKey("catalog.Tariff", on_delete=models.PROTECT, related_name="services")
    name = models.CharField(_("name"), max_length=200, blank=True)
    period = models.CharField(_("period"), max_length=8, choices=PERIOD_CHOICES)
    currency = models.CharField(_("currency"), max_length=3)
    billing_mode = models.CharField(max_length=12, choices=BILLING_MODE_CHOICES)
    prorata_day = models.PositiveSmallIntegerField(default=1)
    anchor_day = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        _("status"), max_length=24, choices=ServiceStatus.choices, default=ServiceStatus.ORDERED
    )
    sub_state = models.CharField(
        _("operation"), max_length=12, choices=SubState.choices, default="", blank=True
    )
    ordered_at = models.DateTimeField(default=clock.now, editable=False)
    opened_at = models.DateTimeField(null=True, blank=True)
    paid_until = models.DateField(_("paid until (exclusive)"), null=True, blank=True)
    # Hourly services are paid by the hour: the start (UTC) of the first hour not paid yet.
    # Their ``paid_until`` stays empty, so the daily run never sees them (the hourly one does).
    paid_until_at = models.DateTimeField(_("paid until (hourly, exclusive)"), null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    auto_renew_period = models.CharField(
        _("auto-renew period"),
        max_length=8,
        choices=PERIOD_CHOICES,
        blank=True,
        default="",
        help_text=_("Blank: auto-renew off."),
    )
    delete_at_period_end = models.BooleanField(default=False)
    addon_values = models.JSONField(default=dict, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    special_price_minor = models.BigIntegerField(
        null=True, blank=True, help_text=_("Overrides the period price when set.")
    )
    module_instance = models.ForeignKey(
        ModuleInstance, null=True, blank=True, on_delete=models.PROTECT, related_name="services"
    )
    external_id = models.CharField(max_length=200, blank=True, default="")
    note = models.TextField(
        _("note"),
        blank=True,
        default="",
        help_text=_("Free text; also written to the VM's description where the module can."),
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        indexes = [
            models.Index(fields=["status", "paid_until"], name="service_due_idx"),
            models.Index(fields=["client", "status"], name="service_client_status_idx"),
            models.Index(fields=["status", "paid_until_at"], name="service_hourly_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(special_price_minor__isnull=True) | Q(special_price_minor__gte=0),
                name="service_special_price_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(prorata_day__gte=1, prorata_day__lte=28), name="service_prorata_day"
            ),
            models.CheckConstraint(
                condition=Q(anchor_day__gte=1, anchor_day__lte=31), name="service_anchor_day"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name or self.tariff_id}"


class ServiceEvent(AuditEvent):
    """Audit row for every service state change (from/to status kept in ``data``)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=24, blank=True, default="")
    to_status = models.CharField(max_length=24, blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["service", "created_at"])]


class OperationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    PENDING = "pending", _("Waiting for completion")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Outcome unknown")
    CANCELLED = "cancelled", _("Cancelled")


class ServiceOperation(models.Model):
    """One call of a module operation for a service, executed by a job.

    The DB row is the source of truth (Huey delivers at most once); the janitor re-queues rows
    stuck in queued/running/unknown. ``idempotency_key`` is passed to the module, so a retried
    call never creates a second remote object.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="operations")
    module_instance = models.ForeignKey(
        ModuleInstance, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    operation = models.CharField(max_length=40)
    status = models.CharField(
        max_length=10, choices=OperationStatus.choices, default=OperationStatus.QUEUED
    )
    from_status = models.CharField(
        max_length=24, blank=True, default="", help_text=_("Service status when requested.")
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=6)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="operation_due_idx")]

    def __str__(self) -> str:
        return f"{self.operation} #{self.pk} ({self.status})"


class TaskKind(models.TextChoices):
    OPERATION = "operation", _("Perform an operation by hand")
    FAILURE = "failure", _("Resolve a failed operation")
    OTHER = "other", _("Other")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Task(models.Model):
    """Work for staff: what to do, for which service, in which department."""

    department = models.CharField(max_length=100, default="support")
    kind = models.CharField(max_length=10, choices=TaskKind.choices, default=TaskKind.OTHER)
    title = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True, default="")
    instructions = models.TextField(blank=True, default="")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    operation = models.ForeignKey(
        ServiceOperation, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="billow_tasks",
    )
    resolution = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "department"])]

    def __str__(self) -> str:
        return self.title


class SystemMark(models.Model):
    """A remote object (e.g. a VM) of a module instance that staff marked as the provider's own:
    discovery lists it as *system* and never as drift. One mark per instance and object."""

    module_instance = models.ForeignKey(
        ModuleInstance, on_delete=models.CASCADE, related_name="system_marks"
    )
    external_id = models.CharField(max_length=200)
    name = models.CharField(max_length=200, blank=True, default="")
    note = models.TextField(blank=True, default="")
    actor_kind = models.CharField(max_length=20, blank=True, default="")
    actor_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("system object")
        verbose_name_plural = _("system objects")
        constraints = [
            models.UniqueConstraint(
                fields=["module_instance", "external_id"], name="system_mark_unique_object"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name or self.external_id} (system)"


# IP pools live in their own module; importing them here registers them with the app.
from billow.services.models_net import IpAllocation as IpAllocation  # noqa: E402
from billow.services.models_net import IpPool as IpPool  # noqa: E402
