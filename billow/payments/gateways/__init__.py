"""Payment gateways: the contract in ``base``, one folder per adapter, a registry.

Importing this package registers the built-in adapters (sandbox, bank_transfer, stripe,
yookassa). A third-party gateway registers itself with ``@gateways.register("key")``.
"""

from billow.payments.gateways.bank_transfer import adapter as _bank_transfer  # noqa: F401
from billow.payments.gateways.base import Gateway, gateways
from billow.payments.gateways.sandbox import adapter as _sandbox  # noqa: F401
from billow.payments.gateways.stripe import adapter as _stripe  # noqa: F401
from billow.payments.gateways.yookassa import adapter as _yookassa  # noqa: F401

__all__ = ["Gateway", "gateways"]
