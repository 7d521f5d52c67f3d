"""The ``job`` decorator and ``enqueue_on_commit`` over Huey's Django integration (DESIGN §6).

Jobs are thin: they take ids, load rows, call one action, and are idempotent (Huey delivers at
most once; the database is the source of truth). Put them in ``<app>/tasks.py`` so the consumer
(``manage.py run_huey``, which autodiscovers ``tasks`` modules) registers them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, overload
from uuid import UUID

from django.conf import settings
from django.db import transaction
from huey.contrib import djhuey

from billow.core.errors import ValidationError
from billow.jobs.policy import RetryPolicy

logger = logging.getLogger("billow.jobs")

F = TypeVar("F", bound=Callable[..., Any])

#: A Huey ``TaskWrapper``: call it to enqueue, ``.call_local(...)`` to run inline.
Job = Any

_SCALARS = (str, int, bool, type(None), Decimal, date, datetime, UUID)


def default_policy() -> RetryPolicy:
    """The retry policy of jobs that don't set their own (``settings.BILLOW["JOBS_*"]``)."""
    conf: Mapping[str, Any] = getattr(settings, "BILLOW", {})
    return RetryPolicy(
        max_retries=conf.get("JOBS_MAX_RETRIES", 5),
        base_delay=conf.get("JOBS_RETRY_BASE_DELAY", 10.0),
        factor=conf.get("JOBS_RETRY_FACTOR", 2.0),
        max_delay=conf.get("JOBS_RETRY_MAX_DELAY", 3600.0),
    )


def _on_failure(name: str, policy: RetryPolicy, task: Any, exc: BaseException) -> None:
    """Tell Huey whether to retry: set the next delay, or drop the remaining retries."""
    attempt = policy.max_retries - int(task.retries) + 1
    decision = policy.decide(exc, attempt)
    if decision.retry:
        task.retry_delay = decision.delay
        logger.warning(
            "job %s attempt %d raised %r; retrying in %.1fs", name, attempt, exc, decision.delay
        )
    else:
        task.retries = 0
        logger.error("job %s attempt %d failed (%s): %r", name, attempt, decision.outcome, exc)


@overload
def job(fn: F, /) -> Job: ...


@overload
def job(
    *,
    retries: int | None = None,
    base_delay: float | None = None,
    factor: float | None = None,
    max_delay: float | None = None,
    name: str | None = None,
    keep_result: bool = True,
) -> Callable[[F], Job]: ...


def job(
    fn: F | None = None,
    /,
    *,
    retries: int | None = None,
    base_delay: float | None = None,
    factor: float | None = None,
    max_delay: float | None = None,
    name: str | None = None,
    keep_result: bool = True,
) -> Job | Callable[[F], Job]:
    """Declare a background job (``@job`` or ``@job(retries=3, base_delay=30)``).

    Calling the result enqueues it (use :func:`enqueue_on_commit` inside actions);
    ``.call_local`` runs the function inline. Only ``RetryableError`` is retried, with
    exponential backoff; every other exception fails the job at once (logged).
    ``keep_result=False``: the queue stores nothing when the job ends (for frequent jobs whose
    outcome lives in the database; ``.call_local`` still returns the value).
    """

    def decorate(func: F) -> Job:
        base = default_policy()
        policy = RetryPolicy(
            max_retries=base.max_retries if retries is None else retries,
            base_delay=base.base_delay if base_delay is None else base_delay,
            factor=base.factor if factor is None else factor,
            max_delay=base.max_delay if max_delay is None else max_delay,
        )
        label = name or f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def run(*args: Any, task: Any, **kwargs: Any) -> Any:
            try:
                value = func(*args, **kwargs)
            except Exception as exc:
                _on_failure(label, policy, task, exc)
                raise
            return value if keep_result else None  # Huey stores no None

        wrapper = djhuey.db_task(
            retries=policy.max_retries, retry_delay=policy.base_delay, context=True, name=name
        )(run)
        wrapper.call_local = func
        wrapper.retry_policy = policy
        return wrapper

    return decorate if fn is None else decorate(fn)


def _check_arg(value: Any) -> None:
    if isinstance(value, list | tuple):
        for item in value:
            _check_arg(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_arg(key)
            _check_arg(item)
    elif not isinstance(value, _SCALARS) or isinstance(value, float):
        raise ValidationError(
            f"job arguments must be ids and plain values, not {type(value).__name__}",
            code="invalid_job_args",
        )


def enqueue_on_commit(task: Job, *args: Any, using: str | None = None, **kwargs: Any) -> None:
    """Enqueue ``task(*args, **kwargs)`` once the current transaction commits (at once outside
    one; never if it rolls back). Arguments must be ids and plain values. A failure to enqueue
    is logged, not raised: the row's state in the database is what a janitor job re-queues from.
    """
    _check_arg(list(args))
    _check_arg(kwargs)
    transaction.on_commit(functools.partial(task, *args, **kwargs), using=using, robust=True)


def schedule_on_commit(
    task: Job, delay_seconds: float, *args: Any, using: str | None = None, **kwargs: Any
) -> None:
    """``enqueue_on_commit`` to run ``delay_seconds`` after the commit (at once when it is 0):
    for work that need not follow at once and should not compete with the requests that
    cause it (a document's email and its PDF)."""
    if delay_seconds <= 0:
        enqueue_on_commit(task, *args, using=using, **kwargs)
        return
    _check_arg(list(args))
    _check_arg(kwargs)
    later = functools.partial(task.schedule, args=args, kwargs=kwargs, delay=delay_seconds)
    transaction.on_commit(later, using=using, robust=True)
