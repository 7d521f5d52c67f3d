"""What other apps hear from payments, without payments importing them (DESIGN §2).

``payments`` never imports ``orders``: a paid payment credits the client balance, then
:func:`fire_balance_credited` runs (after commit) and ``orders`` settles its open orders from
the balance in the callback it registered with :func:`on_balance_credited`. Likewise for failed
or cancelled payments (``orders`` releases promo-code reservations).

Register in ``AppConfig.ready()``::

    from billow.payments.hooks import on_balance_credited
    on_balance_credited(lambda *, client_id, currency, payment_id: settle_open_orders(
        client_id=client_id, currency=currency))
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

logger = logging.getLogger("billow.payments.hooks")
T = TypeVar("T")


class BalanceCredited(Protocol):
    def __call__(self, *, client_id: int, currency: str, payment_id: int) -> object: ...


class PaymentFailed(Protocol):
    def __call__(
        self, *, client_id: int, currency: str, payment_id: int, reference: str
    ) -> object: ...


class PaymentOpened(Protocol):
    def __call__(self, *, client_id: int, currency: str, payment_id: int) -> object: ...


_lock = threading.Lock()
_balance_credited: list[BalanceCredited] = []
_payment_failed: list[PaymentFailed] = []
_payment_opened: list[PaymentOpened] = []


def on_balance_credited(callback: BalanceCredited) -> BalanceCredited:
    """Call ``callback(client_id=, currency=, payment_id=)`` after a payment credits a balance.

    Idempotent registration (the same callable twice is kept once); usable as a decorator.
    """
    return _add(_balance_credited, callback)


def on_payment_failed(callback: PaymentFailed) -> PaymentFailed:
    """Call ``callback(client_id=, currency=, payment_id=, reference=)`` after a payment fails
    or is cancelled."""
    return _add(_payment_failed, callback)


def on_payment_opened(callback: PaymentOpened) -> PaymentOpened:
    """Call ``callback(client_id=, currency=, payment_id=)`` after a payment becomes pending
    (the payer was sent to a hosted page, or given bank-transfer instructions)."""
    return _add(_payment_opened, callback)


def _add(registry: list[T], callback: T) -> T:
    with _lock:
        if callback not in registry:
            registry.append(callback)
    return callback


def remove_hook(callback: Callable[..., object]) -> None:
    """Unregister ``callback`` from every hook (tests)."""
    with _lock:
        for registry in (_balance_credited, _payment_failed, _payment_opened):
            while callback in registry:
                registry.remove(callback)


def fire_balance_credited(client_id: int, currency: str, payment_id: int) -> None:
    """Run every balance-credited callback (the actions schedule this on commit)."""
    for callback in list(_balance_credited):
        _run(callback, client_id=client_id, currency=currency, payment_id=payment_id)


def fire_payment_opened(client_id: int, currency: str, payment_id: int) -> None:
    for callback in list(_payment_opened):
        _run(callback, client_id=client_id, currency=currency, payment_id=payment_id)


def fire_payment_failed(client_id: int, currency: str, payment_id: int, reference: str) -> None:
    for callback in list(_payment_failed):
        _run(
            callback,
            client_id=client_id,
            currency=currency,
            payment_id=payment_id,
            reference=reference,
        )


def _run(callback: Callable[..., object], **kwargs: object) -> None:
    # The payment is committed whatever a listener does: one listener's error must neither undo
    # it nor starve the next listener, so it is logged here (a listener that needs retries
    # enqueues a job). This is the one place payments catches broadly, on purpose.
    try:
        callback(**kwargs)
    except Exception:
        logger.exception("payments hook %r failed for %r", callback, kwargs)
