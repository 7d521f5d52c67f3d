"""The ledger accounts a payment moves money between, in the lock order every money-moving
use case keeps (the client balance first).
"""

from __future__ import annotations

from billow.accounts.models import Client
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_or_create_account
from billow.payments.models import Payment


def lock_balance(payment: Payment) -> LedgerAccount:
    """The client's balance account for this payment's provider and currency, row-locked
    (the first lock of every money-moving use case; the same order as orders and billing)."""
    account = get_or_create_account(
        kind=AccountKind.CLIENT_BALANCE,
        currency=payment.currency,
        client=Client(pk=payment.client_id),
        provider=payment.provider,
    )
    return LedgerAccount.objects.select_for_update().get(pk=account.pk)


def house_account(payment: Payment, kind: str) -> LedgerAccount:
    return get_or_create_account(kind=kind, currency=payment.currency, provider=payment.provider)
