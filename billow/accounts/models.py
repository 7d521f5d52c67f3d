"""Providers, clients, client users, payers and client groups (BILLmanager reference §1.1-§1.5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billow.core.audit import AuditEvent


class TrialScope(models.TextChoices):
    """How often a client may take a trial: once per tariff, or once per product type (a trial
    of any VPS tariff uses up the VPS trial)."""

    TARIFF = "tariff", _("Once per client per tariff")
    PRODUCT_TYPE = "product_type", _("Once per client per product type")


class Provider(models.Model):
    """A selling brand. Tariffs, payment methods, taxes, promotions and templates belong to one."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    default_currency = models.CharField(_("default currency"), max_length=3, default="USD")
    email = models.EmailField(_("notification email"), blank=True)
    support_email = models.EmailField(_("support email"), blank=True)
    site_url = models.URLField(_("web site"), blank=True)
    billing_url = models.URLField(_("billing URL"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    trial_scope = models.CharField(
        _("trials"), max_length=12, choices=TrialScope.choices, default=TrialScope.TARIFF
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The seller block of invoices and credit notes (snapshotted on each document at issue):
    # on the provider row itself because every issuer already holds it, so the snapshot costs
    # no query on the checkout's and the billing run's paths.
    legal_name = models.CharField(
        _("legal name"), max_length=300, blank=True, help_text=_("Empty: the name above.")
    )
    legal_address = models.TextField(_("legal address"), blank=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2, of the seller")
    )
    tax_id = models.CharField(_("VAT / tax id"), max_length=40, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=40, blank=True)
    bank_name = models.CharField(_("bank name"), max_length=200, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC / SWIFT"), max_length=11, blank=True)
    bank_account = models.CharField(
        _("bank account"),
        max_length=60,
        blank=True,
        help_text=_("Account number where there is no IBAN (with routing or sort code)."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("provider")
        verbose_name_plural = _("providers")

    def __str__(self) -> str:
        return self.name


#: The provider's seller block of invoices and credit notes (edited in the admin).
SELLER_FIELDS = (
    "legal_name",
    "legal_address",
    "country",
    "tax_id",
    "registration_number",
    "bank_name",
    "iban",
    "bic",
    "bank_account",
)


class ClientGroup(models.Model):
    """A set of clients that share prices, rights and access (reference §1.5)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    allow_suspend_resume = models.BooleanField(
        _("allow service suspension/activation"),
        default=False,
        help_text=_("Clients may suspend and resume their own services (meant for resellers)."),
    )
    allow_delete = models.BooleanField(_("allow service deletion"), default=True)
    ignore_service_limit = models.BooleanField(
        _("ignore the number of services on the account"),
        default=False,
        help_text=_("Overrides the tariff's per-account order limit."),
    )
    forbid_contract_drafts = models.BooleanField(_("forbid contract drafts"), default=False)
    referral_participation = models.CharField(
        _("referral program participation"),
        max_length=10,
        choices=[("default", _("Program default")), ("allow", _("Allow")), ("forbid", _("Forbid"))],
        default="default",
    )
    mailing_segment = models.BooleanField(_("include in mailing segments"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("client group")
        verbose_name_plural = _("client groups")

    def __str__(self) -> str:
        return self.name


class ClientStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


class Client(models.Model):
    """The customer account. Holds users, payers, groups and (in the ledger) its balances."""

    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"))
    status = models.CharField(
        _("status"), max_length=10, choices=ClientStatus.choices, default=ClientStatus.INACTIVE
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text="ISO 3166-1 alpha-2"
    )
    contact_person = models.CharField(_("contact person"), max_length=200, blank=True)
    comment = models.TextField(_("internal comment"), blank=True)
    providers = models.ManyToManyField(
        Provider, related_name="clients", verbose_name=_("providers")
    )
    groups: models.ManyToManyField[ClientGroup, ClientGroupMembership] = models.ManyToManyField(
        ClientGroup,
        through="ClientGroupMembership",
        related_name="clients",
        blank=True,
        verbose_name=_("groups"),
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("registered by staff member"),
    )
    created_at = models.DateTimeField(_("registered at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        indexes = [models.Index(fields=["email"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ClientStatus.values), name="client_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name}"


class MembershipSource(models.TextChoices):
    MANUAL = "manual", _("Manual")
    AUTO = "auto", _("Automatic rule")


class ClientGroupMembership(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="memberships")
    group = models.ForeignKey(ClientGroup, on_delete=models.CASCADE, related_name="memberships")
    source = models.CharField(
        max_length=10, choices=MembershipSource.choices, default=MembershipSource.MANUAL
    )
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("group membership")
        constraints = [
            models.UniqueConstraint(fields=["client", "group"], name="uniq_client_group"),
            models.CheckConstraint(
                condition=Q(source__in=MembershipSource.values), name="membership_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} in {self.group_id}"


class ClientPermission(models.TextChoices):
    """What a non-owner client user may do. The owner may do everything."""

    BILLING = "billing", _("Billing and payments")
    SERVICES = "services", _("Services")
    PAYERS = "payers", _("Payers")
    USERS = "users", _("Users")


class ClientUser(models.Model):
    """Links a Django user to the client it acts for; exactly one owner per client."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="users")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_user"
    )
    is_owner = models.BooleanField(_("owner"), default=False)
    permissions = models.JSONField(
        _("permissions"),
        default=list,
        blank=True,
        help_text=_("Subset of: billing, services, payers, users. Ignored for the owner."),
    )
    is_active = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("client user")
        verbose_name_plural = _("client users")
        constraints = [
            models.UniqueConstraint(
                fields=["client"], condition=Q(is_owner=True), name="one_owner_per_client"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.client_id}"

    def has_permission(self, perm: str) -> bool:
        return self.is_active and (self.is_owner or perm in (self.permissions or []))


class PayerKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    COMPANY = "company", _("Company")
    SOLE_PROPRIETOR = "sole_proprietor", _("Sole proprietor")


class VerificationState(models.TextChoices):
    UNVERIFIED = "unverified", _("Not verified")
    PENDING = "pending", _("Verification pending")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class VerificationMethod(models.TextChoices):
    NONE = "", _("None")
    EMAIL = "email", _("Email confirmation")
    PHONE = "phone", _("Phone (SMS) confirmation")
    DOCUMENTS = "documents", _("Documents checked by staff")
    PAYMENT = "payment", _("Verified payment card")
    GOVERNMENT_ID = "government_id", _("Government identity service")


class DocumentDelivery(models.TextChoices):
    EMAIL = "email", _("Email")
    POST = "post", _("Post")
    EDI = "edi", _("Electronic document interchange")
    NONE = "none", _("Do not send")


class InvoiceGeneration(models.TextChoices):
    ADVANCE = "advance", _("Based on advance payments")
    POSTPAID = "postpaid", _("Post-paid")
    EXPENSES_ON_CREDIT = "expenses_on_credit", _("Based on expenses, on credit")


class Payer(models.Model):
    """The party invoices are made out to (reference §1.4). A client may have several."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="payers")
    kind = models.CharField(_("payer status"), max_length=20, choices=PayerKind.choices)
    name = models.CharField(
        _("name"),
        max_length=300,
        help_text=_("Company or sole proprietor name; for an individual, the person's name"),
    )
    contact_person = models.CharField(_("contact person"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    fax = models.CharField(_("fax"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    tax_id = models.CharField(_("tax id (VAT / INN)"), max_length=40, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=40, blank=True)
    document_delivery = models.CharField(
        _("receive documents"),
        max_length=10,
        choices=DocumentDelivery.choices,
        default=DocumentDelivery.EMAIL,
    )
    accounting_code = models.CharField(_("code in accounting system"), max_length=60, blank=True)
    invoice_generation = models.CharField(
        _("invoice generation"),
        max_length=20,
        choices=InvoiceGeneration.choices,
        default=InvoiceGeneration.ADVANCE,
    )
    legal_country = models.CharField(_("legal address: country"), max_length=2, blank=True)
    legal_region = models.CharField(_("legal address: region"), max_length=100, blank=True)
    legal_postcode = models.CharField(_("legal address: ZIP"), max_length=20, blank=True)
    legal_city = models.CharField(_("legal address: city"), max_length=100, blank=True)
    legal_address = models.CharField(_("legal address"), max_length=300, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    postcode = models.CharField(_("ZIP"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    address = models.CharField(_("actual address"), max_length=300, blank=True)
    verification_state = models.CharField(
        _("verification"),
        max_length=12,
        choices=VerificationState.choices,
        default=VerificationState.UNVERIFIED,
    )
    verification_method = models.CharField(
        _("verification method"),
        max_length=20,
        choices=VerificationMethod.choices,
        default=VerificationMethod.NONE,
        blank=True,
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("payer")
        verbose_name_plural = _("payers")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PayerKind.values), name="payer_kind_valid"),
            # A verified payer says how and when; any other state carries no verification time.
            models.CheckConstraint(
                condition=~Q(verification_state=VerificationState.VERIFIED)
                | (Q(verified_at__isnull=False) & ~Q(verification_method=VerificationMethod.NONE)),
                name="payer_verified_has_method_and_time",
            ),
            models.CheckConstraint(
                condition=Q(verification_state=VerificationState.VERIFIED)
                | Q(verified_at__isnull=True),
                name="payer_unverified_has_no_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AccountEvent(AuditEvent):
    """One row per accounts state change (client created, user added, payer verified, ...).

    Written by the actions in the same transaction as the change; never edited. ``client`` is
    empty for provider events and once the client is deleted (the ids stay in ``data``).
    """

    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("account event")
        verbose_name_plural = _("account events")
        indexes = [models.Index(fields=["client", "created_at"])]
