"""Staff admin: templates checked on save, preview with errors as form errors, resend."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client as HttpClient

from billow.notifications.models import MessageTemplate, OutboundEmail

from .conftest import T0, counts

pytestmark = pytest.mark.django_db

ADD = "/admin/notifications/messagetemplate/add/"


def _form(**kw: Any) -> dict[str, Any]:
    return {
        "provider": "",
        "locale": "en",
        "event": "service_suspended",
        "channel": "email",
        "subject": "Suspended: {{ service_name }}",
        "body": "{{ client.name }}",
        "html_body": "",
        "is_active": "on",
    } | kw


def _template(**kw: Any) -> MessageTemplate:
    fields = {
        "locale": "en",
        "event": "service_suspended",
        "channel": "email",
        "subject": "Suspended: {{ service_name }}",
        "body": "Dear {{ client.name }} <b>",
        "html_body": '<p title="t">{{ service_name }}</p>',
    } | kw
    return MessageTemplate.objects.create(**fields)


def test_valid_template_is_saved(admin_client: HttpClient) -> None:
    resp = admin_client.post(ADD, _form())
    assert resp.status_code == 302
    assert MessageTemplate.objects.get().subject == "Suspended: {{ service_name }}"


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("body", "{% if %}", "Template error: Unexpected end of expression in if tag."),
        ("subject", "{{ service_name|nosuchfilter }}", "Invalid filter: &#x27;nosuchfilter&#x27;"),
        ("html_body", "{% for x in %}", "Template error: &#x27;for&#x27; statements should"),
    ],
)
def test_template_syntax_error_is_a_form_error_and_nothing_saved(
    admin_client: HttpClient, field: str, text: str, message: str
) -> None:
    before = counts()
    resp = admin_client.post(ADD, _form(**{field: text}))
    assert resp.status_code == 200
    assert message in resp.content.decode()
    assert counts() == before


def test_preview_renders_saved_template_with_sample_context(admin_client: HttpClient) -> None:
    tpl = _template()
    resp = admin_client.get(f"/admin/notifications/messagetemplate/{tpl.pk}/preview/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert (
        '<pre class="whitespace-pre-wrap mb-4" id="preview_subject">Suspended: VPS-2 #1017 '
        "(web01.example.com)</pre>" in html
    )
    assert 'id="preview_body">Dear Example Ltd &lt;b&gt;</pre>' in html  # shown, not run
    assert 'srcdoc="&lt;p title=&quot;t&quot;&gt;VPS-2 #1017 (web01.example.com)&lt;/p&gt;"' in html


def test_preview_of_broken_text_shows_form_error_not_500(admin_client: HttpClient) -> None:
    tpl = _template()
    resp = admin_client.post(
        f"/admin/notifications/messagetemplate/{tpl.pk}/preview/",
        {
            "event": "service_suspended",
            "locale": "ru",
            "subject": "ok",
            "body": "{% endif %}",
            "html_body": "{{ x y }}",
        },
    )
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Template error: Invalid block tag on line 1: &#x27;endif&#x27;." in html
    assert "Template error: Could not parse the remainder" in html
    assert 'id="preview_result"' not in html
    assert MessageTemplate.objects.get().body == "Dear {{ client.name }} <b>"  # nothing saved


@pytest.mark.parametrize("object_id", ["999", "abc"])
def test_preview_of_unknown_template_is_404(admin_client: HttpClient, object_id: str) -> None:
    url = f"/admin/notifications/messagetemplate/{object_id}/preview/"
    assert admin_client.get(url).status_code == 404


def test_read_only_lists_open(admin_client: HttpClient, client_en) -> None:
    OutboundEmail.objects.create(
        to="a@example.com", from_email="b@example.com", subject="s", body="b", client=client_en
    )
    for model in ("notification", "outboundemail"):
        assert admin_client.get(f"/admin/notifications/{model}/").status_code == 200
    assert admin_client.get("/admin/notifications/outboundemail/add/").status_code == 403


def test_resend_action_queues_a_copy(
    admin_client: HttpClient, django_capture_on_commit_callbacks, immediate_huey
) -> None:
    old = OutboundEmail.objects.create(
        to="a@example.com",
        from_email="b@example.com",
        subject="s",
        body="b",
        status="failed",
        attempts=6,
        error="550",
        created_at=T0,
        next_attempt_at=T0,
    )
    with django_capture_on_commit_callbacks(execute=True):
        resp = admin_client.post(
            "/admin/notifications/outboundemail/",
            {"action": "resend_action", "_selected_action": [old.pk]},
        )
    assert resp.status_code == 302
    old.refresh_from_db()
    new = OutboundEmail.objects.exclude(pk=old.pk).get()
    assert (old.status, old.attempts) == ("failed", 6)  # history kept
    assert (new.to, new.subject, new.status, new.attempts) == ("a@example.com", "s", "sent", 1)
    assert [m.to for m in mail.outbox] == [["a@example.com"]]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ('{% include "/etc/passwd" %}', "Invalid block tag on line 1: &#x27;include&#x27;"),
        ("{% load static %}", "&#x27;static&#x27; is not a registered tag library"),
    ],
)
def test_preview_of_an_include_or_a_load_is_a_form_error_not_500(
    admin_client: HttpClient, body: str, error: str
) -> None:
    tpl = _template()
    resp = admin_client.post(
        f"/admin/notifications/messagetemplate/{tpl.pk}/preview/",
        {"event": "service_suspended", "locale": "ru", "subject": "ok", "body": body},
    )
    assert resp.status_code == 200
    assert error in resp.content.decode()
    assert MessageTemplate.objects.get().body == "Dear {{ client.name }} <b>"  # nothing saved
