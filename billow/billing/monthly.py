"""The invoices of the 1st (reference §1.12, §1.14): post-paid charges and credit-limit debts.

On the 1st of a month (``issue_monthly_invoices``, a job of the schedule table; any later day
of the month catches up, and a rerun issues nothing twice):

- **post-paid** clients get ONE invoice per (provider, currency) with the charges of the months
  before that no document covers yet (the run leaves post-paid charges undocumented), issued
  unpaid and due ``invoice_due_days`` later (their billing policy);
- **credit-limit** clients whose balance was below zero when the month ended get a payment
  request for that debt (less what their earlier unpaid invoices already ask for), due the same
  way. Their charges were documented when charged; this invoice carries no tax and
  documents no charge.

Both are settled by ``billing.credit`` once the balance covers them, and overdue ones drive
the credit terms (respite, block).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import formats
from django.utils.translation import gettext as _

from billow.accounts.models import Client, Payer, Provider
from billow.billing.credit import moved_since
from billow.billing.documents import document_pending_charges
from billow.billing.models import ClientBillingSettings, Expense, ExpenseKind
from billow.billing.terms import policies_for_clients
from billow.billing.wallet import lock_wallet
from billow.core import clock
from billow.core.actors import Actor
from billow.invoicing.actions import InvoiceLineInput
from billow.invoicing.due import issue_due_invoice
from billow.invoicing.models import Invoice, InvoiceStatus
from billow.ledger.models import AccountKind, LedgerAccount

MONTHLY_ACTOR = Actor.job("monthly_invoices")


@dataclass(slots=True)
class MonthlyReport:
    postpaid: list[int] = field(default_factory=list)  # invoice ids
    debts: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"postpaid": len(self.postpaid), "debts": len(self.debts)}


def month_start(day: date) -> date:
    return day.replace(day=1)


def issue_monthly_invoices(*, day: date, now: datetime | None = None) -> MonthlyReport:
    """Issue the month's invoices for the months before ``day``'s (see the module docstring)."""
    first = month_start(day)
    moment = clock.now(now) if now is not None else _moment(day)
    report = MonthlyReport()
    report.postpaid = issue_postpaid_invoices(first=first, now=moment)
    report.debts = issue_debt_invoices(first=first, now=moment)
    return report


def _moment(day: date) -> datetime:
    current = clock.now()
    return current if current.date() == day else datetime.combine(day, time(0, 30), tzinfo=UTC)


def issue_postpaid_invoices(*, first: date, now: datetime) -> list[int]:
    """The post-paid invoices of the months ending before ``first``: ``billing.documents.
    document_pending_charges`` of the charges written before ``first``, issued unpaid and due
    per the clients' policies (clients grouped by due date; a client with several providers
    gets the due date of its first one)."""
    cutoff = datetime.combine(first, time(0), tzinfo=UTC)
    postpaid = ClientBillingSettings.objects.filter(
        client_id=OuterRef("client_id"), currency=OuterRef("currency"), postpaid=True
    )
    pending = sorted(
        set(
            Expense.objects.filter(
                kind=ExpenseKind.CHARGE, invoice__isnull=True, created_at__lt=cutoff
            )
            .filter(Exists(postpaid))
            .values_list("client_id", "provider_id", "currency")
        )
    )
    due_of: dict[int, date] = {}
    for client_id, provider_id, currency in pending:
        if client_id not in due_of:
            policy = policies_for_clients([client_id], provider_id, currency)[client_id]
            due_of[client_id] = first + timedelta(days=policy.invoice_due_days)
    by_due: dict[date, list[int]] = defaultdict(list)
    for client_id, due_on in due_of.items():
        by_due[due_on].append(client_id)
    issued: list[int] = []
    for due_on, client_ids in sorted(by_due.items()):
        invoices = document_pending_charges(
            until=cutoff,
            client_ids=client_ids,
            postpaid=True,
            due_on=due_on,
            paid=False,
            now=now,
            actor=MONTHLY_ACTOR,
        )
        issued += [invoice.pk for invoice in invoices]
    return issued


def issue_debt_invoices(*, first: date, now: datetime) -> list[int]:
    """A payment request per credit-limit wallet that owed money when ``first`` began."""
    settings = ClientBillingSettings.objects.filter(credit_limit_minor__gt=0, postpaid=False)
    pairs = set(settings.values_list("client_id", "currency"))
    if not pairs:
        return []
    accounts = LedgerAccount.objects.filter(
        kind=AccountKind.CLIENT_BALANCE,
        provider__isnull=False,
        client_id__in=sorted({c for c, _ in pairs}),
    ).values_list("client_id", "provider_id", "currency")
    keys = sorted((c, p, cur) for c, p, cur in accounts if (c, cur) in pairs)
    cutoff = datetime.combine(first, time(0), tzinfo=UTC)
    issued = []
    for client_id, provider_id, currency in keys:
        invoice = _debt_invoice(client_id, provider_id, currency, first, cutoff, now)
        if invoice is not None:
            issued.append(invoice.pk)
    return issued


def debt_reference(client_id: int, provider_id: int, currency: str, first: date) -> str:
    return f"debt:{client_id}:{provider_id}:{currency}:{first:%Y-%m}"


def _debt_invoice(
    client_id: int, provider_id: int, currency: str, first: date, cutoff: datetime, now: datetime
) -> Invoice | None:
    reference = debt_reference(client_id, provider_id, currency, first)
    with transaction.atomic():
        wallet = lock_wallet(client_id, provider_id, currency)
        if Invoice.objects.filter(provider_id=provider_id, reference=reference).exists():
            return None  # issued by an earlier run of this month
        key = (client_id, provider_id, currency)
        moved = sum(amount for _, amount in moved_since({key}, cutoff).get(key, ()))
        debt = -(wallet.balance_minor + moved)
        asked = sum(
            Invoice.objects.filter(
                client_id=client_id,
                provider_id=provider_id,
                currency=currency,
                status=InvoiceStatus.ISSUED,
                due_on__isnull=False,
            ).values_list("total_minor", flat=True)
        )
        amount = debt - asked
        if amount <= 0:
            return None
        policy = policies_for_clients([client_id], provider_id, currency)[client_id]
        last_day = first - timedelta(days=1)
        description = _("Balance due for services up to %(date)s") % {
            "date": formats.date_format(last_day, "DATE_FORMAT")
        }
        return issue_due_invoice(
            provider=Provider.objects.get(pk=provider_id),
            client=Client.objects.get(pk=client_id),
            payer=billing_payer(client_id),
            currency=currency,
            lines=[payment_line(description, amount)],
            due_on=first + timedelta(days=policy.invoice_due_days),
            reference=reference,
            actor=MONTHLY_ACTOR,
            now=now,
        )


def billing_payer(client_id: int) -> Payer | None:
    """The payer a client's monthly invoices are made out to: its first active payer."""
    return Payer.objects.filter(client_id=client_id, is_active=True).order_by("id").first()


def payment_line(description: str, amount_minor: int) -> InvoiceLineInput:
    """A line asking for money already charged (documented elsewhere): no tax on it."""
    return InvoiceLineInput(
        description=description,
        quantity=1,
        unit_price_minor=amount_minor,
        discount_minor=0,
        net_minor=amount_minor,
        tax_rate=Decimal(0),
        tax_minor=0,
        total_minor=amount_minor,
    )
