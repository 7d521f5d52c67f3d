"""Trials: a tariff's trial period is taken once per client, per tariff or per product type as
the provider sets (``Provider.trial_scope``).

``check_trials_available`` is the read every quote makes (the cart, the shop preview and the
checkout refuse ``trial_already_used`` and write nothing); ``record_trial_uses`` writes the
``TrialUse`` rows inside the checkout's transaction, where their unique key turns the second of
two concurrent checkouts of one trial into the same refusal (rolled back whole).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from django.db import IntegrityError, transaction

from billow.accounts.models import Provider, TrialScope
from billow.catalog import cache as catalog_cache
from billow.catalog.models import Tariff
from billow.core.periods import Period
from billow.orders.errors import OrderError
from billow.orders.models import Order, TrialUse


class TrialItem(Protocol):
    @property
    def tariff_id(self) -> int: ...
    @property
    def period(self) -> str: ...


def trial_scope(provider_id: int) -> str:
    scope = Provider.objects.filter(pk=provider_id).values_list("trial_scope", flat=True).first()
    return scope or TrialScope.TARIFF


def scope_key(scope: str, tariff: Tariff) -> str:
    if scope == TrialScope.PRODUCT_TYPE:
        return f"product_type:{tariff.product_type_id}"
    return f"tariff:{tariff.pk}"


def _refusal(tariff: Tariff) -> OrderError:
    return OrderError(
        f"the trial of {tariff.name} was used already",
        code="trial_already_used",
        tariff_id=tariff.pk,
    )


def check_trials_available(
    *,
    client_id: int,
    provider_id: int,
    items: Sequence[TrialItem],
    tariffs: Mapping[int, Tariff],
) -> None:
    """Refuse ``trial_already_used`` when an item orders a trial the client took before (in
    the provider's scope), or two items order the same one. Costs nothing without trials."""
    trials = [tariffs[i.tariff_id] for i in items if i.period == Period.TRIAL]
    if not trials:
        return
    scope = trial_scope(provider_id)
    seen: set[str] = set()
    for tariff in trials:
        key = scope_key(scope, tariff)
        if key in seen:
            raise _refusal(tariff)
        seen.add(key)
    by_type = scope == TrialScope.PRODUCT_TYPE
    field = "product_type_id" if by_type else "tariff_id"

    def scope_id(t: Tariff) -> int:
        return t.product_type_id if by_type else t.pk

    used = TrialUse.objects.filter(client_id=client_id).filter(
        **{f"{field}__in": {scope_id(t) for t in trials}}
    )
    taken = set(used.values_list(field, flat=True))
    for tariff in trials:
        if scope_id(tariff) in taken:
            raise _refusal(tariff)


def record_trial_uses(order: Order, items: Sequence[TrialItem]) -> None:
    """Write the trials ``order`` takes (inside the checkout's transaction, after
    ``check_trials_available``); a concurrent checkout that took one first makes this refuse
    ``trial_already_used`` (the caller's transaction then rolls back). No query without
    trials."""
    ids = [i.tariff_id for i in items if i.period == Period.TRIAL]
    if not ids:
        return
    tariffs = catalog_cache.tariffs(ids)
    trials = [tariffs[pk] for pk in ids]
    scope = trial_scope(order.provider_id)
    uses = [
        TrialUse(
            client_id=order.client_id,
            tariff=t,
            product_type_id=t.product_type_id,
            scope_key=scope_key(scope, t),
            order=order,
            created_at=order.created_at,
        )
        for t in trials
    ]
    try:
        with transaction.atomic():  # a savepoint: the refusal, not a broken transaction
            TrialUse.objects.bulk_create(uses)
    except IntegrityError:
        raise _refusal(trials[0]) from None


def release_trial_uses(order: Order) -> int:
    """A cancelled order gives its trials back."""
    deleted, _ = TrialUse.objects.filter(order=order).delete()
    return deleted
