"""Loaded by the Huey consumer (``run_huey`` autodiscovers ``tasks`` modules): registers the
periodic schedule from its one table, ``billow/jobs/schedule.py``."""

from __future__ import annotations

from billow.jobs.schedule import register_schedule

register_schedule()
