"""Template lookup and rendering, without the database (the rows come in a ``TemplateBook``).

Lookup order for (event, channel) and a client's provider and locale:

1. the provider's template in the client's locale,
2. the default (no provider) template in that locale,
3. the provider's English template,
4. the default English template,
5. the built-in template in the client's locale, then in English.

A stored template that fails to compile or render is skipped (logged) and the next one is used,
so a staff typo never stops a notification. Subjects and text bodies are rendered without
autoescaping; HTML bodies with it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.template import Context, TemplateSyntaxError, VariableDoesNotExist, engines
from django.template.backends.django import Template as BackendTemplate
from django.utils import translation

from billow.core.errors import BillowError
from billow.core.money import Money
from billow.notifications.builtin import DEFAULT_LOCALE, builtin_source
from billow.notifications.errors import TemplateInvalid

logger = logging.getLogger("billow.notifications")

#: Errors a template can raise while rendering (bad filter arguments and the like).
RENDER_ERRORS = (
    TemplateSyntaxError,
    VariableDoesNotExist,
    ValueError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
)


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
    _compiled: dict[str, BackendTemplate] = field(default_factory=dict, repr=False)

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

    def compile(self, text: str) -> BackendTemplate:
        """Compile once per book (a bulk run renders the same few templates many times)."""
        if text not in self._compiled:
            self._compiled[text] = engines["django"].from_string(text)  # type: ignore[assignment]
        return self._compiled[text]


def render_text(tmpl: BackendTemplate, context: Mapping[str, Any]) -> str:
    return tmpl.template.render(Context(dict(context), autoescape=False))


def render_source(
    book: TemplateBook, source: TemplateSource, context: Mapping[str, Any], locale: str
) -> Rendered:
    """Render one template; raises TemplateSyntaxError or one of RENDER_ERRORS."""
    with translation.override(locale):
        subject = render_text(book.compile(source.subject), context)
        body = render_text(book.compile(source.body), context)
        html = book.compile(source.html).render(dict(context)) if source.html.strip() else ""
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
        except RENDER_ERRORS as exc:
            logger.warning("template %s (%s) failed: %r", source.origin, book.event, exc)
    raise TemplateInvalid(f"No template renders {book.event}/{channel}", event=book.event)


def check_template(text: str, context: Mapping[str, Any], *, html: bool = False) -> str:
    """Compile and render ``text`` with ``context``; ``template_invalid`` with the reason."""
    try:
        tmpl: BackendTemplate = engines["django"].from_string(text)  # type: ignore[assignment]
        return tmpl.render(dict(context)) if html else render_text(tmpl, context)
    except RENDER_ERRORS as exc:
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
