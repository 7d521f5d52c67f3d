"""Retry classification and backoff, kept pure (no Huey, no Django) so it is tested directly.

Only :class:`~billow.core.errors.RetryableError` is retried (STYLE §8); anything else fails at
once. The delay after failed attempt ``n`` (1-based) is ``base_delay * factor ** (n - 1)``, capped
at ``max_delay``; a ``retry_after=`` detail on the error (e.g. from an HTTP 429) lengthens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from billow.core.errors import RetryableError, ValidationError


class Outcome(StrEnum):
    RETRY = "retry"
    NOT_RETRYABLE = "not_retryable"
    RETRIES_EXHAUSTED = "retries_exhausted"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    delay: float = 0.0

    @property
    def retry(self) -> bool:
        return self.outcome is Outcome.RETRY


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times a job is retried after a ``RetryableError`` and how long it waits."""

    max_retries: int = 5
    base_delay: float = 10.0
    factor: float = 2.0
    max_delay: float = 3600.0

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise ValidationError("max_retries must be an int", code="invalid_retry_policy")
        if self.max_retries < 0 or self.base_delay < 0 or self.factor < 1:
            raise ValidationError(
                "need max_retries >= 0, base_delay >= 0, factor >= 1", code="invalid_retry_policy"
            )
        if self.max_delay < self.base_delay:
            raise ValidationError("max_delay < base_delay", code="invalid_retry_policy")

    def backoff_delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValidationError("attempt is 1-based", code="invalid_retry_policy")
        # Cap the exponent first so huge attempt numbers cannot overflow a float.
        exponent = min(attempt - 1, 64)
        return float(min(self.base_delay * self.factor**exponent, self.max_delay))

    def decide(self, exc: BaseException, attempt: int) -> Decision:
        """Retry or fail, after attempt ``attempt`` (1-based) raised ``exc``."""
        if not isinstance(exc, RetryableError):
            return Decision(Outcome.NOT_RETRYABLE)
        if attempt > self.max_retries:
            return Decision(Outcome.RETRIES_EXHAUSTED)
        delay = self.backoff_delay(attempt)
        retry_after = exc.details.get("retry_after")
        if isinstance(retry_after, int | float) and not isinstance(retry_after, bool):
            delay = min(max(delay, float(retry_after)), self.max_delay)
        return Decision(Outcome.RETRY, delay)
