"""Template lookup and rendering, without the database (the rows come in a ``TemplateBook``).

Lookup order for (event, channel) and a client's provider and locale:

1. the provider's template in the client's locale,
2. the default (no provider) template in that locale,
3. the provider's English template,
4. the default English template,
5. the built-in template in the client's locale, then in English.

Every template renders in the locked-down engine of ``sandbox`` (no include / extends, no tags
that reach the database or the request, a context of plain data). A stored template that fails
to compile or render, with any error, is skipped (logged, and noted in ``book.failures`` so the
action opens a staff Task) and the next one is used, down to the built-in text: a staff typo
never stops a notification. Subjects and text bodies are rendered without autoescaping; HTML
bodies with it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.template import Context, Template
from django.utils import translation

from billow.core.errors import BillowError
from billow.core.money import Money
from billow.notifications.builtin import DEFAULT_LOCALE, builtin_source
from billow.notifications.errors import TemplateInvalid
from billow.notifications.sandbox import ENGINE, plain

logger = logging.getLogger("billow.notifications")


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """The text of one template; ``origin`` says where it came from (``db:12``, ``builtin:ru``)."""

    subject: str
    body: str
    html: str = ""
    origin: str = "builtin"


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str
    html: str
    origin: str


@dataclass
class TemplateBook:
    """Stored templates of one event, keyed (provider_id or None, locale, channel)."""

    event: str
    rows: dict[tuple[int | None, str, str], TemplateSource] = field(default_factory=dict)
    #: origin -> the error of each stored template that failed (the action opens staff Tasks)
    failures: dict[str, str] = field(default_factory=dict)
    _compiled: dict[str, Template] = field(default_factory=dict, repr=False)

    def candidates(
        self, *, channel: str, provider_id: int | None, locale: str
    ) -> Iterator[TemplateSource]:
        """Templates to try, best first (the lookup order in the module docstring)."""
        keys: list[tuple[int | None, str]] = []
        for loc in dict.fromkeys([locale, DEFAULT_LOCALE]):
            if provider_id is not None:
                keys.append((provider_id, loc))
            keys.append((None, loc))
        for provider, loc in keys:
            row = self.rows.get((provider, loc, channel))
            if row is not None:
                yield row
        for loc in dict.fromkeys([locale, DEFAULT_LOCALE]):
            found = builtin_source(self.event, loc, channel)
            if found is not None:
                yield TemplateSource(found[0], found[1], "", f"builtin:{loc}")

    def compile(self, text: str) -> Template:
        """Compile once per book (a bulk run renders the same few templates many times)."""
        if text not in self._compiled:
            self._compiled[text] = ENGINE.from_string(text)
        return self._compiled[text]


def render_text(tmpl: Template, context: Mapping[str, Any]) -> str:
    return tmpl.render(Context(plain(context), autoescape=False))


def render_html(tmpl: Template, context: Mapping[str, Any]) -> str:
    return tmpl.render(Context(plain(context), autoescape=True))


def render_source(
    book: TemplateBook, source: TemplateSource, context: Mapping[str, Any], locale: str
) -> Rendered:
    """Render one template; raises whatever the template raises."""
    with translation.override(locale):
        subject = render_text(book.compile(source.subject), context)
        body = render_text(book.compile(source.body), context)
        html = render_html(book.compile(source.html), context) if source.html.strip() else ""
    return Rendered(" ".join(subject.split())[:500], body, html, source.origin)


def render_first(
    book: TemplateBook,
    *,
    channel: str,
    provider_id: int | None,
    locale: str,
    context: Mapping[str, Any],
) -> Rendered:
    """Render the best template that works (see the module docstring)."""
    for source in book.candidates(channel=channel, provider_id=provider_id, locale=locale):
        try:
            return render_source(book, source, context, locale)
        # Any error: a stored template is staff input, and the next candidate (at last the
        # built-in text) must still go out.
        except Exception as exc:
            logger.warning("template %s (%s) failed: %r", source.origin, book.event, exc)
            if not source.origin.startswith("builtin"):
                book.failures.setdefault(source.origin, f"{type(exc).__name__}: {exc}"[:500])
    raise TemplateInvalid(f"No template renders {book.event}/{channel}", event=book.event)


def check_template(text: str, context: Mapping[str, Any], *, html: bool = False) -> str:
    """Compile and render ``text`` with ``context``; ``template_invalid`` with the reason."""
    try:
        tmpl = ENGINE.from_string(text)
        return render_html(tmpl, context) if html else render_text(tmpl, context)
    except Exception as exc:  # any error of staff input is a refusal, not a 500
        raise TemplateInvalid(str(exc) or type(exc).__name__) from None


def build_context(
    *,
    client: Mapping[str, Any],
    provider: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The caller's context plus formatted money (``x_minor`` + ``currency`` -> ``x``) and a
    ``service_name`` (``#<service_id>`` when none is known), with ``client`` and ``provider``
    always ours."""
    context = dict(extra or {})
    currency = context.get("currency")
    if isinstance(currency, str):
        for key, value in list(context.items()):
            name = key.removesuffix("_minor")
            if name != key and type(value) is int and name not in context:
                # an unknown currency: leave the raw minor units alone
                with contextlib.suppress(BillowError):
                    context[name] = str(Money(value, currency))
    service_id = context.get("service_id")
    if type(service_id) is int and not context.get("service_name"):
        context["service_name"] = f"#{service_id}"
    context["client"] = dict(client)
    context["provider"] = dict(provider)
    return context
