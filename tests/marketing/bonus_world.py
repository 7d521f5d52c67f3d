"""A bonus program on top of the billing test world: a program (1 point = 1 cent by default),
rules, and reads of a client's points, lots and history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from billow.accounts.models import Client
from billow.marketing.bonus.models import (
    BonusAccount,
    BonusLot,
    BonusMovement,
    BonusPointValue,
    BonusProgram,
    BonusRule,
)
from billow.orders import actions, selectors
from billow.orders.quote import Quote
from billow.services import actions as services
from tests.billing.world import World


def program(world: World, **fields: Any) -> BonusProgram:
    values = {
        "name": "Privilege Club",
        "bonus_names": {"en": "Club points", "ru": "Клубные баллы", "es": "Puntos del club"},
        "enabled": True,
        "consent_required": False,
        "max_share_percent": Decimal(50),
        "expiry_months": 12,
        **fields,
    }
    p = BonusProgram.objects.create(provider=world.provider, **values)
    BonusPointValue.objects.create(program=p, currency="USD", minor_per_point=Decimal(1))
    return p


def rule(p: BonusProgram, trigger: str, **fields: Any) -> BonusRule:
    return BonusRule.objects.create(
        program=p, name=fields.pop("name", trigger), trigger=trigger, **fields
    )


def account(world: World, client: Client) -> BonusAccount:
    return BonusAccount.objects.get(provider=world.provider, client=client)


def points(world: World, client: Client) -> int:
    found = BonusAccount.objects.filter(provider=world.provider, client=client).first()
    return 0 if found is None else found.balance_points


def history(world: World, client: Client) -> list[tuple[str, int]]:
    """(kind, points) oldest first."""
    return list(
        BonusMovement.objects.filter(account__provider=world.provider, account__client=client)
        .order_by("created_at", "id")
        .values_list("kind", "points")
    )


def lots(world: World, client: Client) -> list[tuple[int, int, date | None]]:
    """(points, remaining, expires_on) in credit order."""
    return list(
        BonusLot.objects.filter(account__provider=world.provider, account__client=client)
        .order_by("id")
        .values_list("points", "remaining", "expires_on")
    )


def lots_add_up(world: World, client: Client) -> bool:
    acc = account(world, client)
    remaining = sum(r for _, r, _ in lots(world, client))
    moved = sum(p for _, p in history(world, client))
    return acc.balance_points == remaining == moved


def ready_to_order(world: World, client: Client) -> None:
    client.providers.add(world.provider)
    if not world.product_type.module_instances.exists():
        services.create_module_instance(
            module="dummy", name=f"dummy-{world.provider.pk}", product_types=[world.product_type]
        )


def quote(
    world: World, client: Client, tariff: Any, *, now: Any, bonus_points: int | None = 0
) -> Quote:
    from billow.orders.quote import calculate_quote

    return calculate_quote(
        selectors.build_quote_input(
            client=client,
            provider_id=world.provider.pk,
            currency="USD",
            items=[selectors.ItemSpec("i1", tariff.pk, "1m")],
            now=now,
            bonus_points=bonus_points,
        )
    )


def checkout(
    world: World,
    client: Client,
    tariff: Any,
    *,
    now: Any,
    capture: Any,
    bonus_points: int | None = 0,
) -> actions.CheckoutResult:
    ready_to_order(world, client)
    with capture(execute=True):
        return actions.checkout(
            client=client,
            provider_id=world.provider.pk,
            items=[selectors.ItemSpec("i1", tariff.pk, "1m")],
            currency="USD",
            now=now,
            bonus_points=bonus_points,
        )
