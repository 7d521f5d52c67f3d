"""The payments tests' fixtures: a provider, a client, the sandbox / Stripe / YooKassa methods."""

from tests.payments.conftest import (
    client_account,
    provider,
    sandbox,
    stripe_method,
    yookassa_method,
)

__all__ = ["client_account", "provider", "sandbox", "stripe_method", "yookassa_method"]
