"""Reading and locking wallets: the first lock of every money-moving use case.

The lock order everywhere is the client's balance account(s) first, then the service(s), so a
checkout, a billing-run chunk, a tariff change and a payment's resume never deadlock each other.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet

from billow.accounts.models import Client, Provider
from billow.billing import sql
from billow.billing.models import ClientBillingSettings
from billow.billing.ranges import client_range
from billow.billing.terms import apply_terms_to_wallet
from billow.billing.wallet.balance import Wallet, WalletKey
from billow.core import clock
from billow.ledger.models import AccountKind, LedgerAccount
from billow.ledger.selectors import get_or_create_account, remember_currency

#: (client_id, provider_id, currency, account id, balance) of a balance account
WalletRow = tuple[int, int, str, int, int]


def lock_wallet(client_id: int, provider_id: int, currency: str) -> Wallet:
    """Lock the client's balance account (created if missing) and read its credit terms, in
    one statement. Inside a transaction only."""
    row = sql.lock_wallet_row(client_id, provider_id, currency)
    if row is None:  # the first money of this client in this currency
        get_or_create_account(
            kind=AccountKind.CLIENT_BALANCE,
            currency=currency,
            client=Client(pk=client_id),
            provider=Provider(pk=provider_id),
        )
        row = sql.lock_wallet_row(client_id, provider_id, currency)
        if row is None:  # pragma: no cover - created just above
            raise LedgerAccount.DoesNotExist("the client balance account vanished")
    account_id, balance, limit, postpaid = row
    remember_currency(account_id, currency)  # charges name the account by id
    wallet = Wallet(account_id, int(balance), int(limit or 0), bool(postpaid))
    if limit is not None:  # credit terms: a running promise lends more, a block lends nothing
        apply_terms_to_wallet(wallet, client_id, currency, clock.today())
    return wallet


def read_wallet(client_id: int, provider_id: int, currency: str) -> Wallet:
    """The wallet read without a lock (display and pre-checks; decisions take ``lock_wallet``)."""
    found = (
        LedgerAccount.objects.filter(
            kind=AccountKind.CLIENT_BALANCE,
            client_id=client_id,
            provider_id=provider_id,
            currency=currency,
        )
        .values_list("id", "balance_minor")
        .first()
    )
    account_id, balance = found or (None, 0)
    limit, postpaid = (
        ClientBillingSettings.objects.filter(client_id=client_id, currency=currency)
        .values_list("credit_limit_minor", "postpaid")
        .first()
    ) or (0, False)
    return Wallet(account_id, int(balance), int(limit), bool(postpaid))


def lock_wallets_in_range(lo: int, hi: int | None) -> list[WalletRow]:
    """Lock the balance accounts of clients ``lo <= id < hi`` in id order (a billing-run chunk)."""
    qs = client_range(
        LedgerAccount.objects.filter(kind=AccountKind.CLIENT_BALANCE, provider__isnull=False),
        lo,
        hi,
    ).order_by("id")
    if connection.features.has_select_for_update:
        qs = qs.select_for_update()
    return list(qs.values_list("client_id", "provider_id", "currency", "id", "balance_minor"))


def lock_wallets_of_clients(client_ids: Iterable[int]) -> list[WalletRow]:
    """Lock the balance accounts of ``client_ids`` in id order (the hourly run: only the
    clients with hourly services, not every client of a range)."""
    qs = LedgerAccount.objects.filter(
        kind=AccountKind.CLIENT_BALANCE, provider__isnull=False, client_id__in=list(client_ids)
    ).order_by("id")
    if connection.features.has_select_for_update:
        qs = qs.select_for_update()
    return list(qs.values_list("client_id", "provider_id", "currency", "id", "balance_minor"))


def read_wallets_of_clients(client_ids: Iterable[int]) -> list[WalletRow]:
    """The balance accounts of ``client_ids``, without a lock (auto-payment's planning read)."""
    return list(
        LedgerAccount.objects.filter(
            kind=AccountKind.CLIENT_BALANCE, provider__isnull=False, client_id__in=list(client_ids)
        ).values_list("client_id", "provider_id", "currency", "id", "balance_minor")
    )


def build_wallets(
    rows: Iterable[WalletRow],
    keys: Iterable[WalletKey],
    terms: QuerySet[ClientBillingSettings],
) -> tuple[dict[WalletKey, Wallet], dict[WalletKey, int]]:
    """Wallets for the account ``rows`` with the clients' credit terms (``terms``), plus an empty
    wallet (no account yet) for every other key in ``keys``; and the account ids by key."""
    credit = {
        (c, cur): (limit, post)
        for c, cur, limit, post in terms.values_list(
            "client_id", "currency", "credit_limit_minor", "postpaid"
        )
    }
    wallets: dict[WalletKey, Wallet] = {}
    ids: dict[WalletKey, int] = {}
    for client_id, provider_id, currency, account_id, balance in rows:
        key = (client_id, provider_id, currency)
        limit, post = credit.get((client_id, currency), (0, False))
        wallets[key] = Wallet(account_id, int(balance), int(limit), bool(post))
        ids[key] = account_id
    for key in keys:
        if key not in wallets:
            limit, post = credit.get((key[0], key[2]), (0, False))
            wallets[key] = Wallet(None, 0, int(limit), bool(post))
    return wallets, ids


def wallet_accounts(keys: Iterable[WalletKey], *, create: bool) -> dict[WalletKey, int]:
    """Client balance account ids for ``keys``; missing ones are created when ``create``."""
    wanted = set(keys)
    found = _find_accounts(wanted)
    missing = wanted - found.keys()
    if missing and create:
        LedgerAccount.objects.bulk_create(
            [
                LedgerAccount(
                    kind=AccountKind.CLIENT_BALANCE, client_id=c, provider_id=p, currency=cur
                )
                for c, p, cur in sorted(missing)
            ],
            ignore_conflicts=True,
        )
        found.update(_find_accounts(missing))
    return found


def _find_accounts(keys: set[WalletKey]) -> dict[WalletKey, int]:
    if not keys:
        return {}
    clients = {k[0] for k in keys}
    rows = LedgerAccount.objects.filter(
        kind=AccountKind.CLIENT_BALANCE, client_id__in=clients, provider__isnull=False
    ).values_list("client_id", "provider_id", "currency", "id")
    return {(c, p, cur): i for c, p, cur, i in rows if (c, p, cur) in keys}
