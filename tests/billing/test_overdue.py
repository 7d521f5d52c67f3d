"""The overdue states, settlement and promise lapse as pure functions (``billing.overdue``)."""

from __future__ import annotations

from datetime import date

import pytest

from billow.billing.overdue import (
    CreditTerms,
    OpenInvoice,
    OverdueState,
    UnpaidInvoice,
    overdue_state,
    promise_lapsed,
    settled_invoices,
)

S = OverdueState
APRIL_INVOICE = UnpaidInvoice(1, issued_on=date(2025, 4, 1), due_on=date(2025, 4, 15))
TERMS = CreditTerms(respite_days=5, block_days=25)


@pytest.mark.parametrize(
    ("day", "state"),
    [
        (date(2025, 4, 15), S.NONE),  # the due date itself: not overdue yet
        (date(2025, 4, 16), S.IN_RESPITE),
        (date(2025, 4, 20), S.IN_RESPITE),  # due + 5 days: the respite's last day
        (date(2025, 4, 21), S.RESPITE_OVER),
        (date(2025, 4, 25), S.RESPITE_OVER),
        (date(2025, 4, 26), S.BLOCKED),  # issued 1 April + 25 days
        (date(2026, 1, 1), S.BLOCKED),
    ],
)
def test_the_four_states_over_time(day: date, state: OverdueState) -> None:
    assert overdue_state(TERMS, [APRIL_INVOICE], day).state == state


def test_no_unpaid_invoice_is_no_overdue_payment() -> None:
    assert overdue_state(TERMS, [], date(2030, 1, 1)).state == S.NONE


def test_the_block_never_comes_before_the_respite_is_over() -> None:
    # block-in 3 days would be 4 April, but the respite runs until 20 April
    overdue = overdue_state(
        CreditTerms(respite_days=5, block_days=3), [APRIL_INVOICE], date(2025, 4, 20)
    )
    assert (overdue.state, overdue.respite_ends_on, overdue.blocks_on) == (
        S.IN_RESPITE,
        date(2025, 4, 20),
        date(2025, 4, 21),
    )
    assert overdue_state(
        CreditTerms(respite_days=5, block_days=3), [APRIL_INVOICE], date(2025, 4, 21)
    ).blocked


def test_an_unlimited_respite_never_blocks() -> None:
    terms = CreditTerms(respite_unlimited=True, block_days=0)
    assert overdue_state(terms, [APRIL_INVOICE], date(2030, 1, 1)).state == S.IN_RESPITE


def test_without_block_in_days_the_respite_ends_but_nothing_blocks() -> None:
    terms = CreditTerms(respite_days=0, block_days=None)
    assert overdue_state(terms, [APRIL_INVOICE], date(2030, 1, 1)).state == S.RESPITE_OVER


def test_post_paid_is_never_blocked() -> None:
    terms = CreditTerms(respite_days=0, block_days=0, postpaid=True)
    assert overdue_state(terms, [APRIL_INVOICE], date(2030, 1, 1)).state == S.RESPITE_OVER


def test_the_block_counts_from_the_oldest_unpaid_invoice_and_the_respite_from_the_oldest_due() -> (
    None
):
    may = UnpaidInvoice(2, issued_on=date(2025, 5, 1), due_on=date(2025, 5, 15))
    overdue = overdue_state(TERMS, [may, APRIL_INVOICE], date(2025, 5, 16))
    assert (overdue.state, overdue.respite_ends_on, overdue.blocks_on) == (
        S.BLOCKED,
        date(2025, 4, 20),
        date(2025, 4, 26),
    )


def test_a_payment_settles_the_oldest_invoices_first() -> None:
    # given -60.00 on the balance: March's 30.00 invoiced (April's 30.00 charged since), and
    # April's 30.00 invoiced on 1 May (nothing charged since)
    march = OpenInvoice(1, moved_since_minor=3000)
    april = OpenInvoice(2, moved_since_minor=0)
    assert settled_invoices(-6000, [march, april]) == []
    assert settled_invoices(-3001, [march, april]) == []
    assert settled_invoices(-3000, [march, april]) == [1]
    assert settled_invoices(0, [march, april]) == [1, 2]


def test_a_promise_lapses_on_its_day_only_while_the_balance_is_short() -> None:
    until = date(2025, 2, 17)
    assert not promise_lapsed(until, date(2025, 2, 16), -500)
    assert promise_lapsed(until, date(2025, 2, 17), -500)
    assert not promise_lapsed(until, date(2025, 2, 17), 0)
    assert not promise_lapsed(None, date(2025, 2, 17), -500)
