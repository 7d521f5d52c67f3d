"""The locked-down template engine staff-written notification templates render in.

Staff edit templates in the admin, so a template is input, not code. The engine offers Django's
filters and the plain control tags only: no ``include`` / ``extends`` / ``block`` (they read
files), no ``url``, ``csrf_token``, ``debug`` or ``querystring`` (they reach into the request,
the URLconf or the whole context), ``load`` of ``i18n`` and ``l10n`` only, and no template
loaders at all. The context is plain data (``plain``): a model or any other object arrives as
its text, so no template can call a method (Django calls callables it finds in a context).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.template import Engine, Library, defaultfilters, defaulttags

#: Tags of ``django.template.defaulttags`` a staff template may use.
SAFE_TAGS = (
    "autoescape",
    "comment",
    "cycle",
    "filter",
    "firstof",
    "for",
    "if",
    "ifchanged",
    "load",
    "now",
    "regroup",
    "resetcycle",
    "spaceless",
    "templatetag",
    "verbatim",
    "widthratio",
    "with",
)

register = Library()
for _name in SAFE_TAGS:
    register.tags[_name] = defaulttags.register.tags[_name]
register.filters.update(defaultfilters.register.filters)

_PLAIN = (str, int, float, Decimal, bool, datetime.date, datetime.time, datetime.timedelta)


class SandboxEngine(Engine):
    """An ``Engine`` whose only builtins are this module's library."""

    default_builtins = ["billow.notifications.sandbox"]


ENGINE = SandboxEngine(
    dirs=[],
    app_dirs=False,
    loaders=[("django.template.loaders.locmem.Loader", {})],
    libraries={"i18n": "django.templatetags.i18n", "l10n": "django.templatetags.l10n"},
    string_if_invalid="",
)


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data: scalars, dates, and lists / dicts of them; anything else (and
    anything nested deeper than 8) becomes its text."""
    if value is None or isinstance(value, _PLAIN):
        return value
    if depth < 8 and isinstance(value, Mapping):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if depth < 8 and isinstance(value, list | tuple):
        return [plain(v, depth + 1) for v in value]
    return str(value)
