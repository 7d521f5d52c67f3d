"""create / start / mark paid, failed, cancelled; the state machine; saved-method charges."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from billow.accounts.models import Client, ClientGroup, ClientGroupMembership, Provider
from billow.core.money import Money
from billow.ledger.models import AccountKind, LedgerEntry, LedgerTransaction
from billow.payments import actions
from billow.payments.errors import PaymentConflictError, PaymentError
from billow.payments.gateways.base import Outcome, OutcomeStatus
from billow.payments.models import PaymentEvent, PaymentMethod, SavedPaymentMethod
from billow.payments.states import ALLOWED_TRANSITIONS, PaymentStatus, can_transition
from tests.payments.conftest import T0, HookRecorder, balance, db_state, make_method

pytestmark = pytest.mark.django_db
USD = "USD"


def usd(minor: int) -> Money:
    return Money(minor, USD)


# -- create -----------------------------------------------------------------------------------


def test_create_payment_computes_commission_and_purpose(
    client_account: Client, stripe_method: PaymentMethod
) -> None:
    # given a method with 30 fixed + 2.9 % / when a payment of 100.00 is created
    payment = actions.create_payment(
        client=client_account, amount=usd(10000), method=stripe_method, reference="order:12", now=T0
    )
    # then the payer is charged 103.20, the balance will get 100.00, purpose is order
    assert (payment.amount_minor, payment.commission_minor, payment.total_minor) == (
        10000,
        320,
        10320,
    )
    assert payment.status == PaymentStatus.NEW
    assert payment.purpose == "order"
    assert payment.provider_id == stripe_method.provider_id
    assert list(payment.events.values_list("type", flat=True)) == ["payment.created"]


def test_create_payment_accepts_method_id_text(
    client_account: Client, sandbox: PaymentMethod
) -> None:
    payment = actions.create_payment(client=client_account, amount=usd(500), method=str(sandbox.pk))
    assert payment.method_id == sandbox.pk
    assert payment.purpose == "topup"


@pytest.mark.parametrize(
    ("amount", "fields", "code"),
    [
        (Money(100, "EUR"), {}, "payment_currency_mismatch"),
        (usd(0), {}, "invalid_amount"),
        (usd(99), {"min_amount_minor": 100}, "amount_below_minimum"),
        (usd(10001), {"max_amount_minor": 10000}, "amount_above_maximum"),
        # no maximum of its own: the default, 100,000,000.00 USD (the probe's 2**63 - 1 top-up)
        (usd(10**10 + 1), {}, "amount_above_maximum"),
        (usd(2**63 - 1), {}, "amount_above_maximum"),
        (usd(100), {"is_active": False}, "payment_method_inactive"),
    ],
)
def test_create_payment_refusals_write_nothing(
    client_account: Client,
    provider: Provider,
    amount: Money,
    fields: dict[str, Any],
    code: str,
) -> None:
    method = make_method(provider, "sandbox", secrets={"webhook_secret": "x"}, **fields)
    before = db_state()
    with pytest.raises(PaymentError) as exc:
        actions.create_payment(client=client_account, amount=amount, method=method)
    assert exc.value.code == code
    assert db_state() == before


def test_a_method_without_a_maximum_takes_exactly_the_default_one(
    client_account: Client, provider: Provider
) -> None:
    method = make_method(provider, "sandbox", secrets={"webhook_secret": "x"})
    assert method.max_amount_minor is None and method.maximum_minor == 10**10
    payment = actions.create_payment(client=client_account, amount=usd(10**10), method=method)
    assert payment.amount_minor == 10**10


def test_create_payment_unknown_method(client_account: Client) -> None:
    with pytest.raises(PaymentError) as exc:
        actions.create_payment(client=client_account, amount=usd(100), method="nope")
    assert exc.value.code == "payment_method_not_found"


def test_group_access(client_account: Client, provider: Provider) -> None:
    # given a method limited to the "Resellers" group
    group = ClientGroup.objects.create(name="Resellers")
    method = make_method(provider, "sandbox", secrets={"webhook_secret": "x"})
    method.client_groups.add(group)
    before = db_state()
    # when a client outside the group pays / then refused, nothing written
    with pytest.raises(PaymentError) as exc:
        actions.create_payment(client=client_account, amount=usd(100), method=method)
    assert exc.value.code == "payment_method_not_available"
    assert db_state() == before
    # when the client joins the group / then accepted
    ClientGroupMembership.objects.create(client=client_account, group=group)
    payment = actions.create_payment(client=client_account, amount=usd(100), method=method)
    assert payment.status == PaymentStatus.NEW


def test_create_payment_idempotency(client_account: Client, sandbox: PaymentMethod) -> None:
    first = actions.create_payment(
        client=client_account, amount=usd(100), method=sandbox, idempotency_key="k1"
    )
    again = actions.create_payment(
        client=client_account, amount=usd(100), method=sandbox, idempotency_key="k1"
    )
    assert again.pk == first.pk
    before = db_state()
    with pytest.raises(PaymentConflictError) as exc:
        actions.create_payment(
            client=client_account, amount=usd(101), method=sandbox, idempotency_key="k1"
        )
    assert exc.value.code == "idempotency_key_reused"
    assert db_state() == before


# -- start ------------------------------------------------------------------------------------


def test_start_sandbox_returns_page_url(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = actions.create_payment(client=client_account, amount=usd(100), method=sandbox)
    started = actions.start_payment(payment=payment)
    assert started.status == PaymentStatus.PENDING
    assert started.gateway_reference == f"sbx_{payment.pk}"
    assert started.redirect_url.startswith(f"/pay/sandbox/{payment.pk}/")
    # starting again is a no-op
    again = actions.start_payment(payment=started)
    assert again.redirect_url == started.redirect_url
    assert PaymentEvent.objects.filter(payment=payment, type="payment.started").count() == 1


def test_start_bank_transfer_gives_instructions(
    client_account: Client, bank: PaymentMethod
) -> None:
    payment = actions.create_payment(client=client_account, amount=usd(10000), method=bank)
    started = actions.start_payment(payment=payment)
    assert started.status == PaymentStatus.PENDING
    assert started.instructions == (
        f"Transfer 100.50 USD quoting the reference BT-{payment.pk}.\nIBAN DE00 1234"
    )


# -- paid -------------------------------------------------------------------------------------


def test_mark_paid_posts_ledger_and_fires_hooks_on_commit(
    client_account: Client,
    stripe_method: PaymentMethod,
    recorded_hooks: HookRecorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    payment = actions.create_payment(client=client_account, amount=usd(10000), method=stripe_method)
    with django_capture_on_commit_callbacks(execute=True):
        paid = actions.mark_payment_paid(payment=payment, now=T0)
    assert paid.status == PaymentStatus.PAID
    assert paid.paid_at == T0
    txn = LedgerTransaction.objects.get(idempotency_key=f"payment:{payment.pk}")
    legs = sorted(
        LedgerEntry.objects.filter(transaction=txn).values_list("account__kind", "amount_minor")
    )
    assert legs == [
        (AccountKind.CLIENT_BALANCE, 10000),
        (AccountKind.GATEWAY_CLEARING, -10320),
        (AccountKind.PROVIDER_REVENUE, 320),
    ]
    assert paid.ledger_transaction_id == txn.pk
    assert balance(client_account) == 10000
    assert recorded_hooks.credited == [
        {"client_id": client_account.pk, "currency": USD, "payment_id": payment.pk}
    ]


def test_mark_paid_is_idempotent(
    client_account: Client,
    sandbox: PaymentMethod,
    recorded_hooks: HookRecorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    payment = actions.create_payment(client=client_account, amount=usd(700), method=sandbox)
    actions.mark_payment_paid(payment=payment)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = actions.mark_payment_paid(payment=payment)
    assert again.status == PaymentStatus.PAID
    assert callbacks == []
    assert LedgerTransaction.objects.filter(kind="payment").count() == 1
    assert balance(client_account) == 700


def test_mark_paid_refuses_wrong_amount(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = actions.create_payment(client=client_account, amount=usd(700), method=sandbox)
    before = db_state()
    with pytest.raises(PaymentConflictError) as exc:
        actions.mark_payment_paid(payment=payment, amount_minor=699)
    assert exc.value.code == "amount_mismatch"
    assert db_state() == before


def test_failed_payment_fires_failed_hook_and_stays_unpaid(
    client_account: Client,
    sandbox: PaymentMethod,
    recorded_hooks: HookRecorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    payment = actions.create_payment(
        client=client_account, amount=usd(700), method=sandbox, reference="order:7"
    )
    with django_capture_on_commit_callbacks(execute=True):
        failed = actions.mark_payment_failed(payment=payment, code="card_declined")
    assert (failed.status, failed.failure_code) == (PaymentStatus.FAILED, "card_declined")
    assert recorded_hooks.failed == [
        {
            "client_id": client_account.pk,
            "currency": USD,
            "payment_id": payment.pk,
            "reference": "order:7",
        }
    ]
    assert balance(client_account) == 0
    # failed twice: no-op
    assert actions.mark_payment_failed(payment=payment).status == PaymentStatus.FAILED
    # money arriving late is still credited
    assert actions.mark_payment_paid(payment=payment).status == PaymentStatus.PAID
    assert balance(client_account) == 700


def test_failed_after_paid_is_refused_and_stays_paid(
    client_account: Client, sandbox: PaymentMethod
) -> None:
    payment = actions.create_payment(client=client_account, amount=usd(700), method=sandbox)
    actions.mark_payment_paid(payment=payment)
    before = db_state()
    for close in (actions.mark_payment_failed, actions.mark_payment_cancelled):
        with pytest.raises(PaymentConflictError) as exc:
            close(payment=payment)
        assert exc.value.code == "payment_already_paid"
    assert db_state() == before


# -- state machine ----------------------------------------------------------------------------


def test_transition_table() -> None:
    s = PaymentStatus
    assert ALLOWED_TRANSITIONS[s.PAID] == frozenset()
    assert can_transition(s.NEW, s.PENDING)
    assert can_transition(s.UNKNOWN, s.PAID)
    assert can_transition(s.FAILED, s.PAID)
    assert not can_transition(s.PAID, s.FAILED)
    assert not can_transition(s.FAILED, s.PENDING)
    assert not can_transition(s.CANCELLED, s.FAILED)
    assert set(ALLOWED_TRANSITIONS) == set(s.values)


def test_unknown_outcome_then_pending(client_account: Client, sandbox: PaymentMethod) -> None:
    payment = actions.create_payment(client=client_account, amount=usd(700), method=sandbox)
    unknown = actions.apply_outcome(
        payment=payment, outcome=Outcome(OutcomeStatus.UNKNOWN, code="timeout")
    )
    assert (unknown.status, unknown.failure_code) == (PaymentStatus.UNKNOWN, "timeout")
    pending = actions.apply_outcome(
        payment=payment, outcome=Outcome(OutcomeStatus.PENDING, reference="r1")
    )
    assert (pending.status, pending.gateway_reference) == (PaymentStatus.PENDING, "r1")
    types = list(payment.events.values_list("type", flat=True))
    assert types == ["payment.created", "payment.unknown", "payment.pending"]


# -- saved methods ----------------------------------------------------------------------------


def _saved(client: Client, method: PaymentMethod, token: str, limit: int | None) -> Any:
    return SavedPaymentMethod.objects.create(
        client=client,
        method=method,
        gateway_token=token,
        label="Sandbox card",
        auto_payment_max_minor=limit,
    )


def test_charge_saved_method_within_max(client_account: Client, sandbox: PaymentMethod) -> None:
    saved = _saved(client_account, sandbox, "sbxtok_ok_1", 5000)
    payment = actions.charge_saved_method(
        saved_method=saved, amount=usd(5000), idempotency_key="auto:1:2027-03"
    )
    assert payment.status == PaymentStatus.PAID
    assert payment.saved_method_id == saved.pk
    assert balance(client_account) == 5000
    # replay: no second charge
    again = actions.charge_saved_method(
        saved_method=saved, amount=usd(5000), idempotency_key="auto:1:2027-03"
    )
    assert again.pk == payment.pk
    assert balance(client_account) == 5000


@pytest.mark.parametrize(
    ("limit", "amount", "code"),
    [(5000, 5001, "auto_payment_limit_exceeded"), (None, 100, "auto_payment_disabled")],
)
def test_charge_saved_method_refusals(
    client_account: Client, sandbox: PaymentMethod, limit: int | None, amount: int, code: str
) -> None:
    saved = _saved(client_account, sandbox, "sbxtok_ok_1", limit)
    before = db_state()
    with pytest.raises(PaymentError) as exc:
        actions.charge_saved_method(saved_method=saved, amount=usd(amount), idempotency_key="a")
    assert exc.value.code == code
    assert db_state() == before


def test_charge_saved_declined(client_account: Client, sandbox: PaymentMethod) -> None:
    saved = _saved(client_account, sandbox, "sbxtok_decline", 5000)
    payment = actions.charge_saved_method(saved_method=saved, amount=usd(100), idempotency_key="a")
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "card_declined")
    assert balance(client_account) == 0


def test_recurring_not_supported(client_account: Client, provider: Provider) -> None:
    method = make_method(
        provider, "sandbox", secrets={"webhook_secret": "x"}, supports_recurring=False
    )
    saved = _saved(client_account, method, "sbxtok_ok", 5000)
    with pytest.raises(PaymentError) as exc:
        actions.charge_saved_method(saved_method=saved, amount=usd(100), idempotency_key="a")
    assert exc.value.code == "recurring_not_supported"


def test_first_saved_method_becomes_default(client_account: Client, sandbox: PaymentMethod) -> None:
    from billow.payments.gateways.base import SavedMethodInfo

    p1 = actions.create_payment(client=client_account, amount=usd(100), method=sandbox)
    p2 = actions.create_payment(client=client_account, amount=usd(100), method=sandbox)
    actions.mark_payment_paid(payment=p1, saved=SavedMethodInfo("tok1", "Visa •••• 4242"))
    actions.mark_payment_paid(payment=p2, saved=SavedMethodInfo("tok2", "Visa •••• 1111"))
    rows = list(SavedPaymentMethod.objects.order_by("id").values_list("label", "is_default"))
    assert rows == [("Visa •••• 4242", True), ("Visa •••• 1111", False)]


def test_method_secrets_are_encrypted(sandbox: PaymentMethod) -> None:
    from billow.payments.secrets import get_secrets

    stored = PaymentMethod.objects.get(pk=sandbox.pk)
    assert "sbx_whsec_test" not in stored.secrets_encrypted
    assert get_secrets(stored) == {"webhook_secret": "sbx_whsec_test"}
    assert Decimal(stored.fee_percent) == Decimal(0)
