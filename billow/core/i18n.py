"""Dates in the active language (babel), for text rendered outside the templates."""

from __future__ import annotations

from datetime import date, timedelta

from babel.dates import format_date, format_interval
from django.utils import translation

_LOCALES = {"en": "en_US", "ru": "ru_RU", "es": "es_ES"}


def babel_locale() -> str:
    """The babel locale of the active Django language (English when none is active)."""
    lang = (translation.get_language() or "en").split("-")[0]
    return _LOCALES.get(lang, "en_US")


def period_text(period_from: date, period_to: date) -> str:
    """The days ``[period_from, period_to)`` as a person reads them, in babel's interval
    format of the active language ("Mar 1 - 31, 2026" in English, with its own dashes); one
    day is just that day."""
    last = period_to - timedelta(days=1)
    if last <= period_from:
        return format_date(period_from, format="medium", locale=babel_locale())
    return format_interval(period_from, last, "yMMMd", locale=babel_locale())
