"""The double-entry ledger: accounts, transactions and their entries (DESIGN §3, STYLE §5).

Sign convention: an entry's sign says which way value moved, ``+`` into the account and ``-``
out of it. A payment moves value from ``gateway_clearing`` to ``client_balance`` (clearing -X,
client +X); a charge moves it from ``client_balance`` to ``provider_revenue``. So a positive
``client_balance`` is money the client can spend, and the entries of every transaction sum to zero
per currency.

History is append-only: transactions and entries can be inserted, never updated or deleted
through the ORM (their managers and ``save()``/``delete()`` refuse with ``ledger_immutable``).
Corrections are new transactions. Writes go through ``billow.ledger.actions`` only.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billow.ledger.errors import LedgerImmutableError


class AccountKind(models.TextChoices):
    CLIENT_BALANCE = "client_balance", _("Client balance")
    CLIENT_BONUS = "client_bonus", _("Client bonus")
    PROVIDER_REVENUE = "provider_revenue", _("Provider revenue")
    TAX_PAYABLE = "tax_payable", _("Tax payable")
    GATEWAY_CLEARING = "gateway_clearing", _("Gateway clearing")
    PROMO_EXPENSE = "promo_expense", _("Promo expense")
    REFERRAL_PAYABLE = "referral_payable", _("Referral payable")
    BONUS_EXPENSE = "bonus_expense", _("Bonus expense")
    REFERRAL_EXPENSE = "referral_expense", _("Referral expense")
    ADJUSTMENTS = "adjustments", _("Adjustments (equity)")
    SUSPENSE = "suspense", _("Suspense")


class TransactionKind(models.TextChoices):
    """Well-known transaction kinds. The column is free text so apps can add their own."""

    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")
    CHARGE = "charge", _("Charge")
    CHARGE_REVERSAL = "charge_reversal", _("Charge reversal")
    TAX = "tax", _("Tax")
    BONUS_ACCRUAL = "bonus_accrual", _("Bonus accrual")
    BONUS_REDEMPTION = "bonus_redemption", _("Bonus redemption")
    BONUS_EXPIRY = "bonus_expiry", _("Bonus expiry")
    REFERRAL_REWARD = "referral_reward", _("Referral reward")
    REFERRAL_PAYOUT = "referral_payout", _("Referral payout")
    ADJUSTMENT = "adjustment", _("Balance adjustment")
    TRANSFER = "transfer", _("Transfer")


class LedgerAccount(models.Model):
    """A balance in one currency, owned by a client, a provider, both, or the house.

    Guarantees: one account per (kind, client, provider, currency), NULL owners included (four
    conditional unique constraints, because NULLs are distinct in a plain UNIQUE);
    ``balance_minor`` equals the sum of the account's entries (moved with ``F()`` in the posting's
    DB transaction; checked by ``billow reconcile``).
    """

    kind = models.CharField(_("kind"), max_length=32, choices=AccountKind.choices)
    currency = models.CharField(_("currency"), max_length=3)
    client = models.ForeignKey(
        "accounts.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
        verbose_name=_("client"),
    )
    provider = models.ForeignKey(
        "accounts.Provider",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
        verbose_name=_("provider"),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    balance_minor = models.BigIntegerField(_("balance (minor units)"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        ordering = ["id"]
        permissions = [("adjust_balance", "Can post balance adjustments")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "client", "provider", "currency"],
                condition=Q(client__isnull=False, provider__isnull=False),
                name="ledger_account_uniq_client_provider",
            ),
            models.UniqueConstraint(
                fields=["kind", "client", "currency"],
                condition=Q(client__isnull=False, provider__isnull=True),
                name="ledger_account_uniq_client",
            ),
            models.UniqueConstraint(
                fields=["kind", "provider", "currency"],
                condition=Q(client__isnull=True, provider__isnull=False),
                name="ledger_account_uniq_provider",
            ),
            models.UniqueConstraint(
                fields=["kind", "currency"],
                condition=Q(client__isnull=True, provider__isnull=True),
                name="ledger_account_uniq_house",
            ),
        ]

    def __str__(self) -> str:
        owner = self.client or self.provider or "house"
        return f"{self.name or self.get_kind_display()} ({owner}, {self.currency})"


class ImmutableQuerySet(models.QuerySet[Any]):
    """Refuses every bulk write except inserts."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise LedgerImmutableError(f"{self.model.__name__} rows cannot be updated")

    def delete(self) -> NoReturn:
        raise LedgerImmutableError(f"{self.model.__name__} rows cannot be deleted")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        raise LedgerImmutableError(f"{self.model.__name__} rows cannot be updated")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise LedgerImmutableError(f"{self.model.__name__} rows cannot be updated")


ImmutableManager = models.Manager.from_queryset(ImmutableQuerySet)


class ImmutableModel(models.Model):
    """Rows can be inserted once; ``save()`` of an existing row and ``delete()`` raise."""

    objects = ImmutableManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise LedgerImmutableError(f"{type(self).__name__} rows cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise LedgerImmutableError(f"{type(self).__name__} rows cannot be deleted")


class LedgerTransaction(ImmutableModel):
    """One balanced posting. ``idempotency_key`` is unique: a replay returns this row.

    ``legs_hash`` is the SHA-256 of the canonical legs (kind, then account/currency/amount
    sorted), so a replay is compared with the original without reading its entries.
    """

    kind = models.CharField(_("kind"), max_length=50)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    reference_type = models.CharField(_("reference type"), max_length=100, blank=True)
    reference_id = models.CharField(_("reference id"), max_length=100, blank=True)
    memo = models.TextField(_("memo"), blank=True)
    actor_kind = models.CharField(_("actor kind"), max_length=20, default="system")
    actor_id = models.CharField(_("actor id"), max_length=100, blank=True)
    legs_hash = models.CharField(_("legs fingerprint"), max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["reference_type", "reference_id"], name="ledger_txn_reference"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} [{self.idempotency_key}]"


class LedgerEntry(ImmutableModel):
    """One leg of a transaction: a signed amount moved into (+) or out of (-) one account.

    The two foreign keys are indexed but carry no database constraint (``db_constraint=False``):
    PostgreSQL checks a constraint row by row with a trigger, which alone cost more than the
    whole COPY of the entries (bench/ledger_post.py). Integrity holds without it: entries are
    inserted only by the posting actions, in the same DB transaction as their transaction row,
    for accounts the action has just updated (a missing account aborts the posting);
    transactions are never deleted and accounts are PROTECTed in the ORM; ``billow reconcile``
    reports any orphan entry.
    """

    transaction = models.ForeignKey(
        LedgerTransaction,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="entries",
        verbose_name=_("transaction"),
    )
    account = models.ForeignKey(
        LedgerAccount,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="entries",
        verbose_name=_("account"),
    )
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(amount_minor=0), name="ledger_entry_amount_nonzero"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_minor:+d} {self.currency} -> account {self.account_id}"
