"""``billow.jobs``: background jobs over Huey (DESIGN §6, STYLE §8).

``@job`` declares a job, ``enqueue_on_commit`` queues one after the transaction commits, and
``schedule.SCHEDULE`` is the one table of periodic jobs. Retries happen only for
``RetryableError``, with exponential backoff (``policy``).

Import the Huey-backed names from here only after Django is configured.
"""

from __future__ import annotations

from billow.jobs.base import Job, default_policy, enqueue_on_commit, job, schedule_on_commit
from billow.jobs.policy import Decision, Outcome, RetryPolicy

__all__ = [
    "Decision",
    "Job",
    "Outcome",
    "RetryPolicy",
    "default_policy",
    "enqueue_on_commit",
    "job",
    "schedule_on_commit",
]
