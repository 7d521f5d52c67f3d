"""Auto-payment from the default saved method before the billing run renews (time travel).

A 10.00/month service opened on 10 January renews on 10 February; the notice window is 3 days,
so the run of 7 February is the first to see the renewal and to auto-pay for it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from billow.accounts.models import Client
from billow.billing import autopay
from billow.billing.autopay import AutoPayMethod, decide_autopay
from billow.billing.plan import DueService, RunRules
from billow.billing.wallet import Wallet
from billow.ledger.actions import adjust_client_balance
from billow.ledger.selectors import get_reconcile_report
from billow.notifications.models import Notification
from billow.payments.models import Payment, PaymentMethod, SavedPaymentMethod
from billow.services.states import ServiceStatus
from tests.billing.world import World
from tests.payments.conftest import make_method

pytestmark = pytest.mark.django_db

FEB = date(2025, 2, 1)


@pytest.fixture(autouse=True)
def _notice_days(settings: Any) -> None:
    settings.BILLOW = {**settings.BILLOW, "BILLING_NOTICE_DAYS": 3}


@pytest.fixture
def run_callbacks(django_capture_on_commit_callbacks: Any) -> Any:
    return django_capture_on_commit_callbacks


class Autopay:
    """A world with one 10.00/month service and a sandbox method that charges saved cards."""

    def __init__(
        self,
        oncommit: Any,
        *,
        balance: int,
        token: str = "sbxtok_ok",  # noqa: S107
        maximum: int | None = 5000,
        **method: Any,
    ) -> None:
        self.oncommit = oncommit
        self.world = World()
        self.tariff = self.world.tariff("VPS", {"1m": 1000})
        self.client = self.world.client(balance=1000 + balance)
        self.service = self.world.service(self.client, self.tariff, date(2025, 1, 10))
        self.method = make_method(
            self.world.provider,
            "sandbox",
            secrets={"webhook_secret": "s"},
            supports_recurring=True,
            **method,
        )
        self.saved = self.save_card(token, maximum)

    def save_card(
        self,
        token: str,
        maximum: int | None,
        *,
        default: bool = True,
        method: PaymentMethod | None = None,
    ) -> SavedPaymentMethod:
        return SavedPaymentMethod.objects.create(
            client=self.client,
            method=method or self.method,
            gateway_token=token,
            label="Visa 4242",
            is_default=default,
            auto_payment_max_minor=maximum,
        )

    def bill(self, day: date) -> dict[str, Any]:
        with self.oncommit(execute=True):
            return self.world.bill(day).report

    def bill_days(self, first: date, last: date) -> list[dict[str, Any]]:
        return [self.bill(first + timedelta(days=n)) for n in range((last - first).days + 1)]

    def payments(self) -> list[tuple[str, int, str, str]]:
        return list(
            Payment.objects.filter(client=self.client)
            .order_by("id")
            .values_list("idempotency_key", "amount_minor", "status", "failure_code")
        )

    def notices(self, event: str) -> list[str]:
        return list(
            Notification.objects.filter(client=self.client, event=event)
            .order_by("id")
            .values_list("body", flat=True)
        )

    def status(self) -> tuple[str, date | None]:
        s = self.world.refresh(self.service)
        return s.status, s.paid_until


def key(client: Client, day: str) -> str:
    return f"autopay:{client.pk}:USD:{day}"


def test_a_short_balance_is_topped_up_by_the_exact_shortfall_before_the_renewal(
    run_callbacks: Any,
) -> None:
    # given 3.00 on the balance, a 10.00 renewal on 10 February and a card with a 50.00 maximum
    ap = Autopay(run_callbacks, balance=300)
    # when the runs of 1-12 February happen
    reports = ap.bill_days(FEB, date(2025, 2, 12))
    # then 7 February (renewal in the notice window) charges the card 7.00, once
    assert ap.payments() == [(key(ap.client, "2025-02-07"), 700, "paid", "")]
    assert [r["autopay_paid"] for r in reports] == [0] * 6 + [1] + [0] * 5
    # and 10 February renews from the balance: the service stays active, the balance is 0
    assert ap.status() == (ServiceStatus.ACTIVE, date(2025, 3, 10))
    assert ap.world.expenses(ap.service)[-1] == (
        "charge",
        date(2025, 2, 10),
        date(2025, 3, 10),
        1000,
    )
    assert ap.world.balance(ap.client) == 0
    assert ap.notices("low_balance") == []
    assert ap.notices("autopay_failed") == []
    assert get_reconcile_report().ok


def test_a_rerun_of_the_same_date_charges_nothing_more(run_callbacks: Any) -> None:
    # given the run of 7 February auto-paid 7.00
    ap = Autopay(run_callbacks, balance=300)
    ap.bill(date(2025, 2, 7))
    balance = ap.world.balance(ap.client)
    # when the same date is run again, twice
    second = ap.bill(date(2025, 2, 7))
    ap.bill(date(2025, 2, 7))
    # then there is still one payment and the balance did not move
    assert ap.payments() == [(key(ap.client, "2025-02-07"), 700, "paid", "")]
    assert (balance, ap.world.balance(ap.client)) == (1000, 1000)
    assert second["autopay_paid"] == 0
    assert get_reconcile_report().ok


def test_a_rerun_after_the_balance_moved_replays_the_payment_of_the_day(
    run_callbacks: Any,
) -> None:
    # given a declined charge of 7.00 on 7 February
    ap = Autopay(run_callbacks, balance=300, token="sbxtok_decline")
    ap.bill(date(2025, 2, 7))
    # when the client spends 1.00 elsewhere (the shortfall is now 8.00) and the date is rerun
    adjust_client_balance(
        account=ap.world.wallet(ap.client),
        amount_minor=100,
        direction="debit",
        reason="domain",
        nonce="debit-1",
    )
    report = ap.bill(date(2025, 2, 7))
    # then no second payment: the day's payment is reported again, the client told once
    assert ap.payments() == [(key(ap.client, "2025-02-07"), 700, "failed", "card_declined")]
    assert report["autopay_failed"] == 1
    assert len(ap.notices("autopay_failed")) == 1


def test_the_run_tops_up_the_debt_of_a_suspended_service_and_resumes_it(
    run_callbacks: Any,
) -> None:
    # given a service suspended on 10 February (auto-payment not set up yet)
    ap = Autopay(run_callbacks, balance=200, maximum=None)
    ap.bill(date(2025, 2, 10))
    assert ap.status() == (ServiceStatus.SUSPENDED_NONPAYMENT, date(2025, 2, 10))
    # when the client sets a maximum and the next run happens
    SavedPaymentMethod.objects.filter(pk=ap.saved.pk).update(auto_payment_max_minor=5000)
    report = ap.bill(date(2025, 2, 11))
    # then the card pays the missing 8.00 and the debt period is charged: active again
    assert ap.payments() == [(key(ap.client, "2025-02-11"), 800, "paid", "")]
    assert report["autopay_paid"] == 1
    assert ap.status() == (ServiceStatus.ACTIVE, date(2025, 3, 10))
    assert ap.world.balance(ap.client) == 0
    assert get_reconcile_report().ok


def test_the_charge_is_raised_to_the_payment_methods_minimum(run_callbacks: Any) -> None:
    ap = Autopay(run_callbacks, balance=900, min_amount_minor=500)
    ap.bill(date(2025, 2, 7))
    assert ap.payments() == [(key(ap.client, "2025-02-07"), 500, "paid", "")]
    assert ap.world.balance(ap.client) == 1400


def test_above_the_maximum_nothing_is_charged_when_the_maximum_pays_no_renewal(
    run_callbacks: Any,
) -> None:
    # given a shortfall of 7.00 and a 5.00 maximum (not enough for the 10.00 renewal)
    ap = Autopay(run_callbacks, balance=300, maximum=500)
    # when the runs of 7-10 February happen
    reports = ap.bill_days(date(2025, 2, 7), date(2025, 2, 10))
    # then nothing is charged, the client is told every day, and the service is suspended
    assert ap.payments() == []
    assert [r["autopay_skipped"] for r in reports] == [1, 1, 1, 1]
    told = (
        "Your services need 7.00 USD more than your balance holds. That is above your "
        "auto-payment maximum of 5.00 USD, so nothing was charged. Please top up your balance "
        "or update your payment method to keep your services running."
    )
    assert ap.notices("autopay_failed") == [told] * 4
    assert ap.status() == (ServiceStatus.SUSPENDED_NONPAYMENT, date(2025, 2, 10))
    assert ap.world.balance(ap.client) == 300


def test_above_the_maximum_the_maximum_is_charged_when_it_pays_the_next_renewal(
    run_callbacks: Any,
) -> None:
    # given a 3.00 balance, renewals of 10.00 (service 1) and 10.00 (service 2) on 10 February,
    # and a 10.00 maximum: the 17.00 shortfall is above it, but 10.00 pays the first renewal
    ap = Autopay(run_callbacks, balance=1300, maximum=1000)
    second = ap.world.service(ap.client, ap.tariff, date(2025, 1, 10))
    assert ap.world.balance(ap.client) == 300
    # when the run of 10 February happens
    report = ap.bill(date(2025, 2, 10))
    # then the card pays 10.00; the first service renews, the second is suspended
    assert ap.payments() == [(key(ap.client, "2025-02-10"), 1000, "paid", "")]
    assert report["autopay_paid"] == 1
    assert ap.status() == (ServiceStatus.ACTIVE, date(2025, 3, 10))
    assert ap.world.refresh(second).status == ServiceStatus.SUSPENDED_NONPAYMENT
    assert ap.world.balance(ap.client) == 300


@pytest.mark.parametrize(
    ("maximum", "default", "active"),
    [(None, True, True), (5000, False, True), (5000, True, False)],
    ids=["auto_off", "not_default", "removed"],
)
def test_without_a_usable_auto_payment_method_the_usual_suspend_path_runs(
    run_callbacks: Any, maximum: int | None, default: bool, active: bool
) -> None:
    ap = Autopay(run_callbacks, balance=300, maximum=maximum)
    SavedPaymentMethod.objects.filter(pk=ap.saved.pk).update(is_default=default, is_active=active)
    reports = ap.bill_days(date(2025, 2, 7), date(2025, 2, 10))
    assert ap.payments() == []
    assert sum(r["autopay_skipped"] + r["autopay_failed"] for r in reports) == 0
    assert ap.status() == (ServiceStatus.SUSPENDED_NONPAYMENT, date(2025, 2, 10))
    assert ap.world.balance(ap.client) == 300


def test_a_method_that_cannot_charge_saved_cards_is_not_used(run_callbacks: Any) -> None:
    ap = Autopay(run_callbacks, balance=300)
    PaymentMethod.objects.filter(pk=ap.method.pk).update(supports_recurring=False)
    ap.bill_days(date(2025, 2, 7), date(2025, 2, 10))
    assert ap.payments() == []
    assert ap.status() == (ServiceStatus.SUSPENDED_NONPAYMENT, date(2025, 2, 10))


def test_a_declined_charge_notifies_retries_daily_and_then_suspends(run_callbacks: Any) -> None:
    # given a card the gateway declines
    ap = Autopay(run_callbacks, balance=300, token="sbxtok_decline")
    # when the runs of 7-10 February happen
    reports = ap.bill_days(date(2025, 2, 7), date(2025, 2, 10))
    # then one failed payment per day (retried daily), nothing posted, the client told daily
    assert ap.payments() == [
        (key(ap.client, f"2025-02-{d:02}"), 700, "failed", "card_declined") for d in (7, 8, 9, 10)
    ]
    assert [r["autopay_failed"] for r in reports] == [1, 1, 1, 1]
    assert ap.notices("autopay_failed")[0] == (
        "We could not charge 7.00 USD to your saved payment method (card_declined). Please top "
        "up your balance or update your payment method to keep your services running."
    )
    assert len(ap.notices("autopay_failed")) == 4
    # and the usual path: suspended on the renewal date, the balance untouched
    assert ap.status() == (ServiceStatus.SUSPENDED_NONPAYMENT, date(2025, 2, 10))
    assert reports[-1]["suspended"] == 1
    assert ap.world.balance(ap.client) == 300
    assert get_reconcile_report().ok


def test_a_payer_that_breaks_does_not_stop_the_run(
    run_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ap = Autopay(run_callbacks, balance=300)
    other = Autopay(run_callbacks, balance=0, maximum=None)
    payer = autopay.get_auto_payer()
    assert payer is not None

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("gateway SDK bug")

    monkeypatch.setattr(payer, "charge", boom)
    report = ap.bill(date(2025, 2, 10))
    assert (report["autopay_pending"], report["suspended"]) == (1, 2)
    assert ap.status()[0] == other.status()[0] == ServiceStatus.SUSPENDED_NONPAYMENT


def test_without_a_registered_payer_auto_payment_is_off(run_callbacks: Any) -> None:
    ap = Autopay(run_callbacks, balance=300)
    old = autopay.unregister_auto_payer()
    try:
        ap.bill(date(2025, 2, 7))
    finally:
        assert old is not None
        autopay.register_auto_payer(old)
    assert ap.payments() == []


def test_one_query_finds_the_clients_with_auto_payment(
    run_callbacks: Any, django_assert_max_num_queries: Any
) -> None:
    # given a chunk where nobody has auto-payment on
    world = World()
    tariff = world.tariff("VPS", {"1m": 1000})
    client = world.client(balance=1000)
    world.service(client, tariff, date(2025, 1, 10))
    world.bill(date(2025, 2, 6))
    from billow.billing.run import autopay_chunk, start_billing_run
    from billow.billing.selectors import PriceBook

    run = start_billing_run(day=date(2025, 2, 7))
    chunk_id = run.chunks.values_list("id", flat=True).first()
    assert chunk_id is not None
    # then the auto-payment pass costs the chunk read and one query
    with django_assert_max_num_queries(2):
        report = autopay_chunk(chunk_id=chunk_id, now=None, book=PriceBook())
    assert report.as_report() == {
        "autopay_paid": 0,
        "autopay_failed": 0,
        "autopay_pending": 0,
        "autopay_skipped": 0,
    }


# -- the decision, without a database ----------------------------------------------------------

METHOD = AutoPayMethod(1, client_id=7, provider_id=1, currency="USD", min_minor=0, max_minor=1000)
RULES = RunRules(date=date(2025, 2, 7), notice_days=3)


def due(service_id: int, paid_until: date, price: int, **fields: Any) -> DueService:
    row: dict[str, Any] = {"status": "active", **fields}
    return DueService(
        id=service_id,
        client_id=7,
        provider_id=1,
        currency="USD",
        paid_until=paid_until,
        renew_period="1m",
        billing_mode="anniversary",
        anchor_day=10,
        price_minor=price,
        **row,
    )


@pytest.mark.parametrize(
    ("renewals", "available", "expected"),
    [
        ([1000], 1000, None),  # covered
        ([1000], 300, (700, "")),  # the exact shortfall
        ([600, 600], 100, (1000, "")),  # 11.00 short: the maximum pays the first renewal
        ([1500], 300, (0, "above_maximum")),  # the maximum cannot pay the first renewal
        ([200, 1500], 300, (0, "above_maximum")),  # the first is paid already; 14.00 missing
    ],
)
def test_decide_autopay(
    renewals: list[int], available: int, expected: tuple[int, str] | None
) -> None:
    decision = decide_autopay(METHOD, renewals, Wallet(1, available))
    got = None if decision is None else (decision.amount_minor, decision.skip_reason)
    assert got == expected


def test_a_credit_limit_counts_and_post_paid_never_auto_pays() -> None:
    assert decide_autopay(METHOD, [1000], Wallet(1, 300, credit_limit_minor=700)) is None
    assert decide_autopay(METHOD, [1000], Wallet(1, -5000, postpaid=True)) is None


def test_renewals_in_spending_order_cover_catch_up_periods_and_the_window() -> None:
    services = [
        due(2, date(2025, 2, 10), 500),  # in the window
        due(3, date(2024, 12, 10), 300, status="suspended_nonpayment"),  # owes two, then 10 Feb
        due(4, date(2025, 2, 7), 100, delete_at_period_end=True),  # not renewed
        due(5, date(2025, 2, 11), 900),  # beyond the window
        due(6, date(2025, 2, 7), 100, status="suspended_staff"),  # not the run's to renew
    ]
    # today's due periods first (service 3's debt), then the window by date and service id
    assert autopay.spending_order(RULES, services) == {(7, 1, "USD"): [300, 300, 500, 300]}
