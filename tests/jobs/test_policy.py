from __future__ import annotations

import pytest

from billow.core.errors import ConflictError, RetryableError, ValidationError
from billow.jobs.policy import Decision, Outcome, RetryPolicy


def test_backoff_doubles_from_the_base_delay_and_is_capped():
    policy = RetryPolicy(max_retries=10, base_delay=10, factor=2, max_delay=300)
    assert [policy.backoff_delay(n) for n in range(1, 8)] == [10, 20, 40, 80, 160, 300, 300]
    assert policy.backoff_delay(10_000) == 300


def test_constant_delay_with_factor_one():
    policy = RetryPolicy(max_retries=3, base_delay=5, factor=1, max_delay=5)
    assert [policy.backoff_delay(n) for n in (1, 2, 3)] == [5, 5, 5]


def test_only_retryable_errors_are_retried():
    policy = RetryPolicy(max_retries=3, base_delay=10)
    assert policy.decide(RetryableError("timeout"), 1) == Decision(Outcome.RETRY, 10.0)
    assert policy.decide(RetryableError("timeout"), 3) == Decision(Outcome.RETRY, 40.0)
    for exc in (ValueError("bug"), ConflictError("no"), ValidationError("bad"), KeyError("k")):
        decision = policy.decide(exc, 1)
        assert decision == Decision(Outcome.NOT_RETRYABLE)
        assert not decision.retry


def test_retries_run_out():
    policy = RetryPolicy(max_retries=3, base_delay=10)
    assert policy.decide(RetryableError(), 4) == Decision(Outcome.RETRIES_EXHAUSTED)
    assert RetryPolicy(max_retries=0).decide(RetryableError(), 1).outcome is (
        Outcome.RETRIES_EXHAUSTED
    )


def test_retry_after_lengthens_but_never_beyond_max_delay():
    policy = RetryPolicy(max_retries=3, base_delay=10, max_delay=120)
    assert policy.decide(RetryableError(retry_after=60), 1).delay == 60.0
    assert policy.decide(RetryableError(retry_after=1), 2).delay == 20.0
    assert policy.decide(RetryableError(retry_after=10_000), 1).delay == 120.0
    assert policy.decide(RetryableError(retry_after="soon"), 1).delay == 10.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"base_delay": -1},
        {"factor": 0.5},
        {"base_delay": 100, "max_delay": 10},
    ],
)
def test_invalid_policy(kwargs):
    with pytest.raises(ValidationError) as exc:
        RetryPolicy(**kwargs)
    assert exc.value.code == "invalid_retry_policy"


def test_attempts_are_one_based():
    with pytest.raises(ValidationError):
        RetryPolicy().backoff_delay(0)
