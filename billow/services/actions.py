"""Service actions. (Being filled in; the functions below are the agreed contract.)"""

from __future__ import annotations

from collections.abc import Sequence


def dispatch_operations(operation_ids: Sequence[int]) -> None:
    """Enqueue the jobs that execute these queued ServiceOperation rows.

    Call it from ``transaction.on_commit`` after creating the rows. Safe to call twice for the
    same ids (the job skips operations that are no longer queued).
    """
    raise NotImplementedError
