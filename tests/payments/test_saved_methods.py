"""A client's saved methods: one default, the auto-payment maximum, removal; refusals change
nothing and another client's method is not found."""

from __future__ import annotations

from typing import Any

import pytest

from billow.accounts import actions as accounts
from billow.accounts.models import Client, Provider
from billow.payments.actions.saved_methods import remove_saved_method, update_saved_method
from billow.payments.errors import PaymentError
from billow.payments.models import PaymentMethod, SavedPaymentMethod


def saved(client: Client, method: PaymentMethod, token: str, **kw: Any) -> SavedPaymentMethod:
    return SavedPaymentMethod.objects.create(
        client=client, method=method, gateway_token=token, label=f"card {token}", **kw
    )


def state() -> list[tuple[Any, ...]]:
    return list(
        SavedPaymentMethod.objects.order_by("pk").values_list(
            "pk", "is_default", "is_active", "auto_payment_max_minor"
        )
    )


def test_default_moves_and_maximum_is_set_and_cleared(
    client_account: Client, sandbox: PaymentMethod
) -> None:
    a = saved(client_account, sandbox, "a", is_default=True)
    b = saved(client_account, sandbox, "b")
    update_saved_method(
        client=client_account, saved_method=b, is_default=True, auto_payment_max_minor=5000
    )
    assert state() == [(a.pk, False, True, None), (b.pk, True, True, 5000)]
    update_saved_method(client=client_account, saved_method=b.pk, auto_payment_max_minor=None)
    assert state() == [(a.pk, False, True, None), (b.pk, True, True, None)]
    update_saved_method(client=client_account, saved_method=b, is_default=False)
    assert state() == [(a.pk, False, True, None), (b.pk, False, True, None)]


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "100"])
def test_a_bad_maximum_is_refused_and_nothing_changes(
    client_account: Client, sandbox: PaymentMethod, bad: Any
) -> None:
    a = saved(client_account, sandbox, "a", is_default=True, auto_payment_max_minor=700)
    before = state()
    with pytest.raises(PaymentError) as err:
        update_saved_method(client=client_account, saved_method=a, auto_payment_max_minor=bad)
    assert err.value.code == "invalid_amount"
    assert state() == before


def test_removal_deactivates_and_another_client_cannot_touch_it(
    client_account: Client, sandbox: PaymentMethod, provider: Provider
) -> None:
    a = saved(client_account, sandbox, "a", is_default=True, auto_payment_max_minor=700)
    other = accounts.create_client(email="b@example.com", providers=[provider], name="B")
    before = state()
    for call in (
        lambda: update_saved_method(client=other, saved_method=a, is_default=True),
        lambda: remove_saved_method(client=other, saved_method=a),
    ):
        with pytest.raises(PaymentError) as err:
            call()
        assert err.value.code == "saved_method_not_found"
    assert state() == before
    remove_saved_method(client=client_account, saved_method=a)
    assert state() == [(a.pk, False, False, None)]
    with pytest.raises(PaymentError) as err:
        remove_saved_method(client=client_account, saved_method=a)
    assert err.value.code == "saved_method_not_found"
