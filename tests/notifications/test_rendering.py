# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Template lookup order, locale fallback and exact rendering (no database: rows are given)."""

from __future__ import annotations

from datetime import date

import pytest

from billow.notifications.builtin import MESSAGES
from billow.notifications.events import SAMPLE_CONTEXT, Event
from billow.notifications.rendering import (
    TemplateBook,
    TemplateSource,
    build_context,
    render_first,
)

CLIENT = {
    "id": 7,
    "name": "Ann Ltd",
    "email": "ann@example.com",
    "contact_person": "Ann",
    "language": "en",
}
PROVIDER = {"id": 1, "name": "Acme Cloud", "billing_url": "https://my.acme.example"}
OPENED = {
    "service_name": "VPS-2 #1017",
    "expires_at": date(2027, 4, 1),
    "amount_minor": 1250,
    "currency": "EUR",
}


def _src(tag: str) -> TemplateSource:
    return TemplateSource(f"subject {tag}", f"body {tag}", "", tag)


def _book(*keys: tuple[int | None, str]) -> TemplateBook:
    book = TemplateBook(event="service_opened")
    for provider_id, locale in keys:
        book.rows[(provider_id, locale, "email")] = _src(f"{provider_id}/{locale}")
    return book


def _pick(book: TemplateBook, provider_id: int | None, locale: str) -> str:
    ctx = build_context(client=CLIENT, provider=PROVIDER, extra=OPENED)
    return render_first(
        book, channel="email", provider_id=provider_id, locale=locale, context=ctx
    ).origin


ALL = [(1, "ru"), (None, "ru"), (1, "en"), (None, "en")]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (ALL, "1/ru"),  # 1. the provider's template in the client's locale
        (ALL[1:], "None/ru"),  # 2. the default template in that locale
        (ALL[2:], "1/en"),  # 3. the provider's English template
        (ALL[3:], "None/en"),  # 4. the default English template
        ([], "builtin:ru"),  # 5. built in, client's locale
        ([(2, "ru"), (2, "en")], "builtin:ru"),  # another provider's templates never apply
    ],
)
def test_lookup_order(rows: list[tuple[int | None, str]], expected: str) -> None:
    assert _pick(_book(*rows), 1, "ru") == expected


def test_lookup_without_provider_uses_defaults_only() -> None:
    assert _pick(_book((1, "es"), (None, "es")), None, "es") == "None/es"


def test_unknown_locale_falls_back_to_english_builtin() -> None:
    assert _pick(_book(), 1, "de") == "builtin:en"


def test_broken_stored_template_is_skipped_for_the_next_one() -> None:
    # given the provider's Russian template has a syntax error
    book = _book((None, "ru"))
    book.rows[(1, "ru", "email")] = TemplateSource("{% if %}", "x", "", "broken")
    # when / then the default Russian one is used
    assert _pick(book, 1, "ru") == "None/ru"


def test_builtin_email_in_english_renders_exact_text() -> None:
    ctx = build_context(client=CLIENT, provider=PROVIDER, extra=OPENED)
    out = render_first(
        TemplateBook("service_opened"), channel="email", provider_id=1, locale="en", context=ctx
    )
    assert out.subject == "Your service VPS-2 #1017 is ready"
    assert out.body == (
        "Hello Ann,\n\n"
        "Your service VPS-2 #1017 has been opened and is paid until 2027-04-01."
        " Charged: 12.50 EUR.\n\n"
        "-- \nYour account: https://my.acme.example\nAcme Cloud\n"
    )
    assert out.html == ""


def test_builtin_panel_in_russian_and_spanish_render_exact_text() -> None:
    extra = {"currency": "EUR", "available_minor": -310, "needed_minor": 1250}
    ctx = build_context(client=CLIENT, provider=PROVIDER, extra=extra)
    book = TemplateBook("low_balance")
    ru = render_first(book, channel="panel", provider_id=1, locale="ru", context=ctx)
    es = render_first(book, channel="panel", provider_id=1, locale="es", context=ctx)
    assert (ru.subject, ru.body) == (
        "Низкий баланс",
        "На вашем балансе -3.10 EUR. Для продления услуг нужно 12.50 EUR."
        " Пожалуйста, пополните баланс.",
    )
    assert (es.subject, es.body) == (
        "Saldo bajo en su cuenta",
        "Su saldo es de -3.10 EUR. Sus servicios necesitan 12.50 EUR para seguir funcionando."
        " Por favor, recargue su saldo.",
    )


def test_text_is_not_escaped_and_html_is() -> None:
    book = TemplateBook("service_deleted")
    book.rows[(None, "en", "email")] = TemplateSource(
        "Bye {{ service_name }}\nnow", "<{{ service_name }}>", "<p>{{ service_name }}</p>", "db"
    )
    ctx = build_context(client=CLIENT, provider=PROVIDER, extra={"service_name": "A&B <x>"})
    out = render_first(book, channel="email", provider_id=None, locale="en", context=ctx)
    assert out.subject == "Bye A&B <x> now"  # one line: newlines in a subject would be refused
    assert out.body == "<A&B <x>>"
    assert out.html == "<p>A&amp;B &lt;x&gt;</p>"


def test_caller_cannot_replace_client_or_provider() -> None:
    ctx = build_context(
        client=CLIENT,
        provider=PROVIDER,
        extra={"client": "spoof", "amount": "given", "amount_minor": 5, "currency": "EUR"},
    )
    assert ctx["client"] == CLIENT
    assert ctx["amount"] == "given"  # a caller's own formatting wins


@pytest.mark.parametrize("locale", ["en", "ru", "es"])
@pytest.mark.parametrize("event", Event.values)
def test_every_builtin_renders_with_its_sample_context(event: str, locale: str) -> None:
    assert (event, locale) in MESSAGES
    ctx = build_context(client=CLIENT, provider=PROVIDER, extra=SAMPLE_CONTEXT[event])
    out = render_first(
        TemplateBook(event), channel="email", provider_id=1, locale=locale, context=ctx
    )
    assert out.origin == f"builtin:{locale}"
    assert out.subject and "{" not in out.subject and "{" not in out.body
