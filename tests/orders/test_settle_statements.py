"""The settle path of a checkout paid from the balance: its rows (a new service opened at once)
are what create_service + request_operation wrote, in a pinned number of statements."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from billow.core.actors import Actor
from billow.orders import actions, selectors
from billow.orders.models import OrderItem, OrderStatus
from billow.services.actions import create_service, request_operation
from billow.services.models import Service, ServiceEvent, ServiceOperation
from billow.services.states import ServiceStatus
from tests.orders.shop import Shop

pytestmark = pytest.mark.django_db

EVENT_FIELDS = ("type", "from_status", "to_status", "data", "actor_kind", "actor_id")


def direct_order(shop: Shop, client: Any, actor: Actor | None = None) -> actions.CheckoutResult:
    item = selectors.ItemSpec("x", shop.tariff.pk, "1m", {"cpu": 2}, {"os": "debian-12"}, False)
    return actions.checkout(
        client=client, provider_id=shop.provider.pk, items=[item], currency="USD", actor=actor
    )


def events(svc: Service) -> list[tuple[Any, ...]]:
    rows = ServiceEvent.objects.filter(service=svc).order_by("pk").values_list(*EVENT_FIELDS)
    return [tuple(r) for r in rows]


def test_a_paid_checkout_writes_the_events_of_create_then_request_open(shop: Shop) -> None:
    # given a client who can pay, and the same service made the way checkout used to make it
    client = shop.client(balance=10**6)
    with transaction.atomic():
        before = create_service(
            client=client,
            tariff=shop.tariff,
            period="1m",
            currency="USD",
            addon_values={"cpu": 2},
            parameters={"os": "debian-12"},
        )
        old_op = request_operation(service=before, operation="open", key="old", service_is_new=True)
    # when a direct order is paid from the balance
    result = direct_order(shop, client)
    # then the order is paid and its item was inserted with its service
    assert result.paid and result.order.status == OrderStatus.PAID
    item = OrderItem.objects.get(order=result.order)
    svc = Service.objects.get(pk=item.service_id)
    assert result.items[0].pk == item.pk and result.items[0].service_id == svc.pk
    # the service is in progress (opening), its open queued from ordered under the order's key
    assert (svc.status, svc.sub_state) == (ServiceStatus.IN_PROGRESS, "open")
    assert svc.updated_at == svc.created_at == svc.ordered_at
    op = ServiceOperation.objects.get(service=svc)
    assert (op.operation, op.status, op.from_status) == ("open", "queued", "ordered")
    assert op.payload == {}
    assert op.idempotency_key == f"order:{result.order.pk}:open:{svc.pk}"
    assert op.module_instance_id == svc.module_instance_id is not None
    # and its events are exactly those of create_service + request_operation
    tariff_data = {"tariff_id": shop.tariff.pk, "period": "1m", "currency": "USD"}
    expected = [
        ("service.ordered", "", "ordered", tariff_data, "system", ""),
        (
            "service.status_changed",
            "ordered",
            "in_progress",
            {
                "sub_state": "open",
                "reason": "open requested",
                "operation_id": op.pk,
                "operation": "open",
            },
            "system",
            "",
        ),
    ]
    assert events(svc) == expected
    old = events(before)
    old[1][3]["operation_id"] = op.pk  # the only difference: the operation's own id
    assert old == expected and old_op.from_status == op.from_status
    created = [e.created_at for e in ServiceEvent.objects.filter(service=svc)]
    assert created == [svc.created_at] * 2


def test_an_awaiting_checkout_still_writes_its_items(shop: Shop) -> None:
    client = shop.client(balance=0)
    result = direct_order(shop, client)
    assert not result.paid and result.order.status == OrderStatus.AWAITING_PAYMENT
    item = OrderItem.objects.get(order=result.order)
    assert item.service_id is None and result.items[0].pk == item.pk
    assert not Service.objects.filter(client=client).exists()


@pytest.mark.postgres_only
def test_a_paid_checkout_runs_a_pinned_number_of_statements(
    shop: Shop, django_assert_max_num_queries: Any
) -> None:
    # given a client who ordered once already (caches warm)
    client = shop.client(balance=10**6)
    direct_order(shop, client)
    # when ordering again, paid from the balance: savepoint (the test's BEGIN), lock, order,
    # service, operation, both events (one statement), money (4 + 2 account reads the tests'
    # caches miss), item (inserted once, with its service), invoice counter, invoice, line,
    # order update, release; plus 5 catalog version checks of the tests' cache (28 before);
    # plus the SAVEPOINT / RELEASE around the ledger's small path (25 before), so a database
    # error there leaves the checkout's transaction usable, less the balance UPDATE that now
    # rides in the ledger's INSERT statement; plus the link of the order's charges to its
    # invoice (issued last, so the charges are written before it exists: issue 12, every
    # charge is documented); plus one more catalog version check: the seller block's fallback to
    # the provider's VAT registration (cached per process; no query in production); plus the
    # bonus program's lookup in the quote (one single-row query; the settlement reuses it)
    with django_assert_max_num_queries(29):
        result = direct_order(shop, client)
    assert result.paid
