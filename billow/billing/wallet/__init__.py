"""The one wallet: a client's balance with one provider in one currency, with its credit terms.

Every use case that moves money for a service goes through here: checkout (``orders``), the
billing run, renewals, tariff and addon changes, deletion refunds, the expiry of unconfigured
quick orders and the resumption after a payment. They lock the wallet first (``lock_wallet``,
or ``lock_wallets_in_range`` for a billing-run chunk), decide on the ``Wallet`` they got, then
``write_money`` / ``move_money``.
"""

from billow.billing.wallet.balance import Wallet, WalletKey, charge_key
from billow.billing.wallet.locks import (
    WalletRow,
    build_wallets,
    lock_wallet,
    lock_wallets_in_range,
    read_wallet,
    read_wallets_of_clients,
    wallet_accounts,
)
from billow.billing.wallet.money import (
    NO_TAX,
    ItemTax,
    MoneyItem,
    move_money,
    revenue_account,
    tax_payable_account,
    write_money,
)

__all__ = [
    "NO_TAX",
    "ItemTax",
    "MoneyItem",
    "Wallet",
    "WalletKey",
    "WalletRow",
    "build_wallets",
    "charge_key",
    "lock_wallet",
    "lock_wallets_in_range",
    "move_money",
    "read_wallet",
    "read_wallets_of_clients",
    "revenue_account",
    "tax_payable_account",
    "wallet_accounts",
    "write_money",
]
