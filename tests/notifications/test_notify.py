# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""notify_client / notify_clients_bulk / notify_staff: the rows they write, exactly once."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from billow.accounts.models import Client, Provider
from billow.core.errors import NotFoundError, ValidationError
from billow.notifications.actions import notify_client, notify_clients_bulk, notify_staff
from billow.notifications.models import MessageTemplate, Notification, OutboundEmail

from .conftest import counts, make_client

pytestmark = pytest.mark.django_db

SUSPENDED = {"service_id": 5, "service_name": "VPS #5", "reason": "non-payment"}


def test_notify_client_writes_panel_and_email_rows_in_the_client_language(
    client_ru: Client, provider: Provider, django_capture_on_commit_callbacks
) -> None:
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        notify_client(
            event="service_suspended",
            client_id=client_ru.pk,
            context=SUSPENDED,
            dedup_key="susp:5:2027-03-01",
        )
    # then one in-panel notification, one queued email, one send job after commit
    note = Notification.objects.get()
    assert (note.client_id, note.provider_id, note.event, note.read_at) == (
        client_ru.pk,
        provider.pk,
        "service_suspended",
        None,
    )
    assert note.title == "Услуга VPS #5 приостановлена"
    assert note.body == "Ваша услуга VPS #5 приостановлена (non-payment)."
    email = OutboundEmail.objects.get()
    assert (email.to, email.from_email, email.status, email.attempts) == (
        "olga@example.com",
        "Acme Cloud <billing@acme.example>",
        "queued",
        0,
    )
    assert email.subject == "Услуга VPS #5 приостановлена"
    assert email.body == (
        "Здравствуйте, Ольга!\n\nВаша услуга VPS #5 приостановлена (non-payment).\n\n-- \n"
        "Личный кабинет: https://my.acme.example\nAcme Cloud\n"
    )
    assert len(callbacks) == 1
    assert mail.outbox == []  # nothing leaves before the job runs


def test_same_dedup_key_twice_gives_one_row_and_one_email(
    client_en: Client, immediate_huey, django_capture_on_commit_callbacks
) -> None:
    # when the billing run notifies, then is rerun with the same key
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            notify_client(
                event="service_resumed",
                client_id=client_en.pk,
                context={"service_name": "VPS #5"},
                dedup_key="resumed:5:1",
            )
    # then
    assert counts() == {"templates": 0, "notifications": 1, "emails": 1}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Service VPS #5 is active again"
    assert OutboundEmail.objects.get().status == "sent"


def test_empty_dedup_key_notifies_every_time(client_en: Client) -> None:
    for _ in range(2):
        notify_client(event="service_deleted", client_id=client_en.pk)
    assert counts() == {"templates": 0, "notifications": 2, "emails": 2}


def test_provider_template_in_client_locale_is_used(client_ru: Client, provider: Provider) -> None:
    # given a default Russian email template and the provider's own
    MessageTemplate.objects.create(
        provider=None,
        locale="ru",
        event="service_deleted",
        channel="email",
        subject="по умолчанию",
        body="x",
    )
    MessageTemplate.objects.create(
        provider=provider,
        locale="ru",
        event="service_deleted",
        channel="email",
        subject="{{ provider.name }}: {{ service_name }} удалена",
        body="{{ client.name }}",
        html_body="<b>{{ client.name }}</b>",
    )
    # when
    notify_client(
        event="service_deleted", client_id=client_ru.pk, context={"service_name": "S3 <bucket>"}
    )
    # then the provider's wins for email; the panel (no stored template) uses the built-in
    email = OutboundEmail.objects.get()
    assert (email.subject, email.body, email.html) == (
        "Acme Cloud: S3 <bucket> удалена",
        "ООО Ромашка",
        "<b>ООО Ромашка</b>",
    )
    assert Notification.objects.get().title == "Услуга S3 <bucket> удалена"


def test_inactive_template_is_skipped(client_en: Client) -> None:
    MessageTemplate.objects.create(
        locale="en",
        event="service_deleted",
        channel="panel",
        subject="off",
        body="off",
        is_active=False,
    )
    notify_client(event="service_deleted", client_id=client_en.pk, context={"service_name": "X"})
    assert Notification.objects.get().title == "Service X is deleted"


def test_bulk_writes_each_client_once_and_skips_known_keys(
    provider: Provider, other_provider: Provider, django_capture_on_commit_callbacks
) -> None:
    # given 3 clients, one already notified in an earlier (crashed) run
    a = make_client(provider, "a@example.com", "en", name="A")
    b = make_client(provider, "b@example.com", "es", name="B")
    c = make_client(other_provider, "c@example.com", "ru", name="C")
    notify_client(event="renewal_coming", client_id=a.pk, dedup_key="renew:a")
    ctx = {"service_name": "VPS", "renews_on": date(2027, 4, 1)}
    items = [
        (a.pk, None, ctx, "renew:a"),
        (b.pk, provider.pk, ctx, "renew:b"),
        (c.pk, None, ctx, "renew:c"),
        (c.pk, None, ctx, "renew:c"),  # repeated in the batch
        (999_999, None, ctx, "renew:ghost"),  # an unknown client is skipped
    ]
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        notify_clients_bulk(event="renewal_coming", items=items)
    # then b and c got one of each, in their languages and with their providers
    assert counts() == {"templates": 0, "notifications": 3, "emails": 3}
    assert len(callbacks) == 2
    rows = {n.dedup_key: (n.provider_id, n.title) for n in Notification.objects.all()}
    assert rows["renew:b"] == (provider.pk, "El servicio VPS se renovará el 2027-04-01")
    assert rows["renew:c"] == (other_provider.pk, "Продление услуги VPS 2027-04-01")
    assert OutboundEmail.objects.get(dedup_key="renew:c").from_email == "billing@billow.localhost"


def test_bulk_rerun_adds_nothing(client_en: Client, client_ru: Client) -> None:
    items = [(client_en.pk, None, {}, "low:en"), (client_ru.pk, None, {}, "low:ru")]
    notify_clients_bulk(event="low_balance", items=items)
    before = counts()
    notify_clients_bulk(event="low_balance", items=items)
    assert counts() == before == {"templates": 0, "notifications": 2, "emails": 2}


def test_unknown_event_is_refused_and_nothing_written(client_en: Client) -> None:
    with pytest.raises(ValidationError) as exc:
        notify_client(event="coffee_ready", client_id=client_en.pk)
    assert exc.value.code == "unknown_event"
    with pytest.raises(ValidationError):
        notify_client(event="operation_failed", client_id=client_en.pk)  # a staff event
    with pytest.raises(ValidationError):
        notify_staff(event="service_opened")
    assert counts() == {"templates": 0, "notifications": 0, "emails": 0}


def test_unknown_client_is_not_found_and_nothing_written(db) -> None:
    with pytest.raises(NotFoundError) as exc:
        notify_client(event="service_opened", client_id=424242)
    assert exc.value.code == "not_found"
    assert counts() == {"templates": 0, "notifications": 0, "emails": 0}


def test_staff_notified_at_configured_addresses(settings, provider: Provider) -> None:
    settings.BILLOW_STAFF_EMAILS = ["ops@acme.example", "noc@acme.example"]
    # given what the services app passes (no service of that id exists here)
    notify_staff(
        event="operation_failed",
        context={
            "operation_id": 501,
            "operation": "open",
            "code": "connection_refused",
            "service_id": 5,
            "task_id": 88,
            "message": "host unreachable",
            "link": "/admin/services/task/88/change/",
            "provider_id": provider.pk,
        },
    )
    emails = list(OutboundEmail.objects.order_by("pk"))
    assert [e.to for e in emails] == ["ops@acme.example", "noc@acme.example"]
    assert emails[0].subject == "Operation open failed for service #5"
    assert emails[0].body == (
        'The operation "open" on service #5 failed: connection_refused (host unreachable).'
        " Task #88 has been opened for staff.\n/admin/services/task/88/change/\n\n-- \nBillow\n"
    )
    assert emails[0].provider_id == provider.pk
    assert Notification.objects.count() == 0


def test_staff_defaults_to_active_superusers(db) -> None:
    users = get_user_model().objects
    users.create_superuser("root", "root@example.com", "x")
    users.create_superuser("gone", "gone@example.com", "x", is_active=False)
    users.create_user("staff", "staff@example.com", "x", is_staff=True)
    notify_staff(event="operation_failed", context={"service_id": 1})
    assert list(OutboundEmail.objects.values_list("to", flat=True)) == ["root@example.com"]


def test_staff_without_any_address_is_dropped(db) -> None:
    notify_staff(event="operation_failed")
    assert OutboundEmail.objects.count() == 0


def test_bulk_over_several_chunks(
    provider: Provider, other_provider: Provider, monkeypatch
) -> None:
    # given chunks of 2 and 5 clients of two providers (one client unknown, mid-batch)
    monkeypatch.setattr("billow.notifications.actions.BULK_BATCH", 2)
    clients = [
        make_client(p, f"c{i}@example.com", "en", name=f"C{i}")
        for i, p in enumerate([provider, other_provider] * 2)
    ]
    ids = [c.pk for c in clients]
    items = [(cid, None, {"service_name": f"S{cid}"}, f"del:{cid}") for cid in ids]
    items.insert(1, (987_654, None, {}, "del:ghost"))
    # when
    notify_clients_bulk(event="service_deleted", items=items)
    # then every known client got its own message with its own provider
    rows = sorted(Notification.objects.values_list("client_id", "provider_id", "title"))
    assert rows == [
        (cid, p.pk, f"Service S{cid} is deleted")
        for cid, p in zip(ids, [provider, other_provider] * 2, strict=True)
    ]
    assert OutboundEmail.objects.count() == 4


def test_service_name_is_looked_up_when_the_caller_gives_only_the_id(
    client_en: Client, provider: Provider
) -> None:
    # given two services, one named, one not (the billing run passes only service ids)
    from billow.catalog import actions as catalog
    from billow.services.models import Service

    vps = catalog.create_product_type(name="VPS", intname="vps")
    tariff = catalog.create_tariff(provider_id=provider.pk, product_type=vps, name="VPS-S")
    common = {
        "client": client_en,
        "provider": provider,
        "tariff": tariff,
        "period": "1m",
        "currency": "EUR",
        "billing_mode": "anniversary",
    }
    named = Service.objects.create(name="web01", **common)
    unnamed = Service.objects.create(**common)
    # when
    items = [(client_en.pk, None, {"service_id": s.pk}, f"del:{s.pk}") for s in (named, unnamed)]
    notify_clients_bulk(event="service_deleted", items=items)
    # then
    titles = list(Notification.objects.order_by("dedup_key").values_list("title", flat=True))
    assert titles == ["Service web01 is deleted", f"Service VPS-S #{unnamed.pk} is deleted"]


@pytest.mark.parametrize("renews_on", [date(2027, 4, 1), "2027-04-01"])
def test_renewal_date_given_as_date_or_text(client_en: Client, renews_on: object) -> None:
    context = {"service_id": 9, "renews_on": renews_on, "amount_minor": 500, "currency": "USD"}
    notify_client(event="renewal_coming", client_id=client_en.pk, context=context)
    note = Notification.objects.get()
    assert note.title == "Service #9 will be renewed on 2027-04-01"
    assert note.body == (
        "Your service #9 is paid until 2027-04-01. The renewal costs 5.00 USD;"
        " please make sure your balance covers it."
    )


@pytest.mark.parametrize(
    "body",
    [
        '{% include "/etc/passwd" %}',  # passed no sample check, but saved by hand or by SQL
        '{% extends "web/base.html" %}',
        "{% load humanize %}{{ 1|intcomma }}",
        "{% url 'admin:index' %}",
        "{% debug %}",
        "{{ client.name|date:'%' }}{% for x in 5 %}{% endfor %}",
    ],
)
def test_a_failing_stored_template_falls_back_to_the_builtin_text_with_one_staff_task(
    client_en: Client, body: str
) -> None:
    from billow.services.models import Task

    # given an active stored panel template that fails at send time
    tpl = MessageTemplate.objects.create(
        locale="en", event="service_deleted", channel="panel", subject="Deleted", body=body
    )
    # when two notifications go out
    for n in range(2):
        notify_client(
            event="service_deleted", client_id=client_en.pk, context={"service_name": f"X{n}"}
        )
    # then both reach the panel with the built-in text (nothing disappears)
    assert sorted(Notification.objects.values_list("title", flat=True)) == [
        "Service X0 is deleted",
        "Service X1 is deleted",
    ]
    # and staff get one open Task naming the template, however many messages it broke
    task = Task.objects.get()
    assert task.title == (
        f"Notification template db:{tpl.pk} (service_deleted) fails; the built-in text is sent"
    )
    assert (task.kind, task.status, task.link) == (
        "other",
        "open",
        f"/admin/notifications/messagetemplate/{tpl.pk}/change/",
    )


def test_a_template_sees_plain_data_and_calls_no_method(client_en: Client) -> None:
    from billow.notifications.rendering import check_template

    class Danger:
        called = False

        def delete(self) -> str:
            Danger.called = True
            return "deleted"

    # a model-like object in the context arrives as its text: its methods cannot be called
    out = check_template("{{ thing.delete }}|{{ thing }}", {"thing": Danger()})
    assert out.startswith("|<") and not Danger.called
