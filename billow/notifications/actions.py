"""Notification actions: queue notifications, send the outbox, mark read, resend.

``notify_*`` render the message now, write the in-panel ``Notification`` and the
``OutboundEmail`` rows in one transaction and enqueue ``send_email`` after it commits. The outbox
row is the source of truth: the job claims it, sends it and marks it sent; a transient SMTP
failure leaves it queued with a later ``next_attempt_at`` (``RetryableError``: the job retries
with backoff, and ``requeue_stuck_emails`` re-queues what a lost job left behind).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr
from typing import Any, cast

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse

from billow.core import clock
from billow.core.actors import Actor
from billow.core.errors import BillowError, RetryableError
from billow.jobs import RetryPolicy, enqueue_on_commit
from billow.notifications import selectors
from billow.notifications.attachments import build_attachments
from billow.notifications.errors import (
    EmailNotFound,
    NotificationNotFound,
    UnknownEvent,
)
from billow.notifications.events import STAFF_EVENTS, Event
from billow.notifications.models import Channel, EmailStatus, Notification, OutboundEmail
from billow.notifications.rendering import TemplateBook, build_context, render_first
from billow.services.actions import open_staff_task

logger = logging.getLogger("billow.notifications")

#: Retries of a transient SMTP failure; ``EMAIL_RETRY.max_retries + 1`` attempts in all.
EMAIL_RETRY = RetryPolicy(max_retries=5, base_delay=60.0, factor=2.0, max_delay=3600.0)
MAX_ATTEMPTS = EMAIL_RETRY.max_retries + 1
#: A claim older than this is considered lost (the worker died mid-send).
CLAIM_LEASE = timedelta(minutes=10)
SMTP_TIMEOUT = 30.0
BULK_BATCH = 500

Item = tuple[int, int | None, Mapping[str, Any], str]
#: (client info, provider info or {}, caller's context, dedup key)
Resolved = tuple[dict[str, Any], dict[str, Any], Mapping[str, Any], str]


# --- Queueing -----------------------------------------------------------------------------


def notify_client(
    *,
    event: str,
    client_id: int,
    provider_id: int | None = None,
    context: Mapping[str, Any] | None = None,
    dedup_key: str = "",
) -> None:
    """Queue a notification of ``event`` for a client (email + in-panel), sent after commit.

    ``provider_id`` defaults to the client's first provider. A non-empty ``dedup_key`` already
    used adds nothing (safe to call again). Refusals: ``unknown_event``, ``not_found`` (no such
    client).
    """
    if not _notify_clients(event, [(client_id, provider_id, context or {}, dedup_key)]):
        raise NotificationNotFound(f"No client {client_id}", client_id=client_id)


def notify_clients_bulk(
    *, event: str, items: Sequence[tuple[int, int | None, Mapping[str, Any], str]]
) -> None:
    """Many notifications of one event: items are (client_id, provider_id, context, dedup_key).

    Set-based: a few queries and bulk inserts per chunk of ``BULK_BATCH`` items. Items whose
    dedup key was used before, or earlier in the batch, are skipped; unknown clients are
    skipped (logged).
    """
    _notify_clients(event, items)


def notify_staff(*, event: str, context: Mapping[str, Any] | None = None) -> None:
    """Queue a notification for staff (e.g. operation failed): one email per address of
    ``settings.BILLOW_STAFF_EMAILS``, else of every active superuser with an email. A
    ``client_id`` / ``provider_id`` in the context fills ``client`` / ``provider``."""
    if event not in STAFF_EVENTS:
        raise UnknownEvent(f"{event!r} is not a staff event", event=event)
    recipients = selectors.list_staff_emails()
    if not recipients:
        logger.warning("staff notification %s dropped: no staff email configured", event)
        return
    extra = dict(context or {})
    provider_id = _int_or_none(extra.get("provider_id"))
    client_id = _int_or_none(extra.get("client_id"))
    provider = {} if provider_id is None else _one(selectors.get_providers_info, provider_id)
    client = {} if client_id is None else _one(selectors.get_clients_info, client_id)
    book = selectors.get_template_book(event=event)
    named = _named(extra, _service_names([extra]))
    rendered = render_first(
        book,
        channel=Channel.EMAIL,
        provider_id=provider_id,
        locale=settings.LANGUAGE_CODE,
        context=build_context(client=client, provider=_public(provider), extra=named),
    )
    with transaction.atomic():
        report_template_failures(book)
        emails = OutboundEmail.objects.bulk_create(
            OutboundEmail(
                to=address,
                from_email=settings.DEFAULT_FROM_EMAIL,
                subject=rendered.subject,
                body=rendered.body,
                html=rendered.html,
                event=event,
                provider_id=provider.get("id"),
                client_id=client.get("id"),
            )
            for address in recipients
        )
        _enqueue_send([email.pk for email in emails])


def _notify_clients(event: str, items: Iterable[Item]) -> bool:
    """Write the rows chunk by chunk (bounded IN lists); True when every client was found."""
    if event not in Event.values or event in STAFF_EVENTS:
        raise UnknownEvent(f"{event!r} is not a client event", event=event)
    unique = _drop_repeated_keys(items)
    book = selectors.get_template_book(event=event)
    providers: dict[int, dict[str, Any]] = {}
    found_all = True
    for start in range(0, len(unique), BULK_BATCH):
        chunk = unique[start : start + BULK_BATCH]
        resolved = _resolve_chunk(event, chunk, providers)
        found_all = found_all and len(resolved) == len(chunk)
        _write_chunk(event, book, resolved)
    return found_all


def _resolve_chunk(
    event: str, chunk: Sequence[Item], providers: dict[int, dict[str, Any]]
) -> list[Resolved]:
    """Load the chunk's clients and providers (``providers`` caches across chunks); an item
    without a provider gets the client's first; unknown clients are dropped (logged)."""
    clients = selectors.get_clients_info({cid for cid, *_ in chunk})
    missing = sorted({cid for cid, *_ in chunk} - clients.keys())
    if missing:
        logger.warning("%s: skipping unknown clients %s", event, missing[:20])
    firsts = selectors.get_default_provider_ids(clients.keys())
    wanted = {pid or firsts.get(cid) for cid, pid, *_ in chunk} - {None} - providers.keys()
    providers.update(selectors.get_providers_info(cast(set[int], wanted)))
    resolved = []
    for cid, pid, extra, key in chunk:
        if cid in clients:
            provider = providers.get(pid or firsts.get(cid) or 0, {})
            resolved.append((clients[cid], provider, extra, key))
    return resolved


def _drop_repeated_keys(items: Iterable[Item]) -> list[Item]:
    seen: set[str] = set()
    kept = []
    for item in items:
        key = item[3]
        if key:
            if key in seen:
                continue
            seen.add(key)
        kept.append(item)
    return kept


def _write_chunk(event: str, book: TemplateBook, chunk: Sequence[Resolved]) -> None:
    keys = [key for *_, key in chunk if key]
    moment = clock.now()
    with transaction.atomic():
        seen_panel = set(_existing_keys(Notification.objects.filter(dedup_key__in=keys)))
        seen_email = set(_existing_keys(OutboundEmail.objects.filter(dedup_key__in=keys)))
        panels: list[Notification] = []
        emails: list[OutboundEmail] = []
        names = _service_names(extra for *_, extra, _ in chunk)
        for client, provider, extra, key in chunk:
            context = build_context(
                client=client, provider=_public(provider), extra=_named(extra, names)
            )
            args = (book, event, client, provider, context, key, moment)
            if not key or key not in seen_panel:
                panels.append(_panel_row(*args))
            if client["email"] and (not key or key not in seen_email):
                emails.append(_email_row(*args))
        Notification.objects.bulk_create(panels, ignore_conflicts=True)
        _enqueue_send(_insert_emails(emails))
        report_template_failures(book)


def report_template_failures(book: TemplateBook) -> None:
    """A staff Task for each stored template that failed while ``book`` rendered (the built-in
    text went out instead); one open Task per template, however many messages it broke."""
    for origin, error in sorted(book.failures.items()):
        pk = origin.removeprefix("db:")
        link = (
            reverse("admin:notifications_messagetemplate_change", args=[pk]) if pk.isdigit() else ""
        )
        open_staff_task(
            title=f"Notification template {origin} ({book.event}) fails; the built-in text is sent",
            instructions=f"Fix or deactivate the template. The error: {error}",
            link=link,
        )
    book.failures.clear()


def _panel_row(
    book: TemplateBook,
    event: str,
    client: Mapping[str, Any],
    provider: Mapping[str, Any],
    context: Mapping[str, Any],
    key: str,
    moment: datetime,
) -> Notification:
    rendered = render_first(
        book,
        channel=Channel.PANEL,
        provider_id=provider.get("id"),
        locale=client["language"],
        context=context,
    )
    return Notification(
        client_id=client["id"],
        provider_id=provider.get("id"),
        event=event,
        title=rendered.subject,
        body=rendered.body,
        dedup_key=key,
        created_at=moment,
    )


def _email_row(
    book: TemplateBook,
    event: str,
    client: Mapping[str, Any],
    provider: Mapping[str, Any],
    context: Mapping[str, Any],
    key: str,
    moment: datetime,
) -> OutboundEmail:
    rendered = render_first(
        book,
        channel=Channel.EMAIL,
        provider_id=provider.get("id"),
        locale=client["language"],
        context=context,
    )
    return OutboundEmail(
        to=client["email"],
        from_email=_from_address(provider),
        subject=rendered.subject,
        body=rendered.body,
        html=rendered.html,
        event=event,
        client_id=client["id"],
        provider_id=provider.get("id"),
        dedup_key=key,
        created_at=moment,
        next_attempt_at=moment,
    )


def _insert_emails(emails: list[OutboundEmail]) -> list[int]:
    """Insert; return the ids to send. Keyed rows may lose a race to a concurrent run (then the
    winner's row is returned too: the send claim keeps it from going out twice)."""
    plain = [e for e in emails if not e.dedup_key]
    keyed = [e for e in emails if e.dedup_key]
    ids = [e.pk for e in OutboundEmail.objects.bulk_create(plain)]
    if keyed:
        OutboundEmail.objects.bulk_create(keyed, ignore_conflicts=True)
        found = OutboundEmail.objects.filter(
            dedup_key__in=[e.dedup_key for e in keyed], status=EmailStatus.QUEUED
        )
        ids += list(found.values_list("pk", flat=True))
    return ids


def _enqueue_send(ids: Iterable[int]) -> None:
    from billow.notifications.tasks import send_email  # tasks import this module

    for pk in ids:
        enqueue_on_commit(send_email, pk)


def _from_address(provider: Mapping[str, Any]) -> str:
    if provider.get("email"):
        return formataddr((provider["name"], provider["email"]))
    return settings.DEFAULT_FROM_EMAIL


def _public(provider: Mapping[str, Any]) -> dict[str, Any]:
    """The provider fields templates see (not the internal From address)."""
    return {k: v for k, v in provider.items() if k != "email"}


def _service_names(contexts: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    """Names of the services the contexts mention by id only (one query)."""
    ids = {
        ctx["service_id"]
        for ctx in contexts
        if type(ctx.get("service_id")) is int and not ctx.get("service_name")
    }
    return selectors.get_service_names(ids) if ids else {}


def _named(extra: Mapping[str, Any], names: Mapping[int, str]) -> Mapping[str, Any]:
    name = names.get(extra.get("service_id"))  # type: ignore[arg-type]
    return {**extra, "service_name": name} if name and not extra.get("service_name") else extra


def _one(load: Callable[[list[int]], dict[int, dict[str, Any]]], pk: int) -> dict[str, Any]:
    return load([pk]).get(pk, {})


def _existing_keys(rows: QuerySet[Any]) -> list[str]:
    return list(rows.values_list("dedup_key", flat=True))


def _int_or_none(value: object) -> int | None:
    return value if type(value) is int else None


@dataclass(frozen=True, slots=True)
class ClientEmail:
    """One email about a client: to ``to`` (default: the client's email), with attachment
    references (``notifications.attachments.attachment_ref``) built when it is sent."""

    client_id: int
    provider_id: int | None
    context: Mapping[str, Any]
    dedup_key: str
    to: str = ""
    attachments: tuple[Mapping[str, Any], ...] = ()
    reply_to: str = ""


def email_clients(*, event: str, emails: Sequence[ClientEmail]) -> int:
    """Queue emails only (no in-panel notification), sent after commit; returns how many were
    queued now. A ``dedup_key`` already used queues nothing, so a rerun sends nothing twice;
    unknown clients and emails without an address are skipped (logged). Refusal:
    ``unknown_event``."""
    if event not in Event.values or event in STAFF_EVENTS:
        raise UnknownEvent(f"{event!r} is not a client event", event=event)
    book = selectors.get_template_book(event=event)
    providers: dict[int, dict[str, Any]] = {}
    queued = 0
    for start in range(0, len(emails), BULK_BATCH):
        queued += _email_chunk(event, book, emails[start : start + BULK_BATCH], providers)
    return queued


def _email_chunk(
    event: str,
    book: TemplateBook,
    chunk: Sequence[ClientEmail],
    providers: dict[int, dict[str, Any]],
) -> int:
    clients = selectors.get_clients_info({e.client_id for e in chunk})
    firsts = selectors.get_default_provider_ids(clients.keys())
    wanted = {e.provider_id or firsts.get(e.client_id) for e in chunk} - {None}
    providers.update(selectors.get_providers_info(cast(set[int], wanted - providers.keys())))
    moment = clock.now()
    rows: list[OutboundEmail] = []
    with transaction.atomic():
        keys = [e.dedup_key for e in chunk if e.dedup_key]
        seen = set(_existing_keys(OutboundEmail.objects.filter(dedup_key__in=keys)))
        for e in chunk:
            client = clients.get(e.client_id)
            to = e.to or (client or {}).get("email", "")
            if client is None or not to:
                logger.warning("%s for client %s: no recipient, skipped", event, e.client_id)
                continue
            if e.dedup_key and e.dedup_key in seen:
                continue
            seen.add(e.dedup_key)
            provider = providers.get(e.provider_id or firsts.get(e.client_id) or 0, {})
            context = build_context(client=client, provider=_public(provider), extra=e.context)
            row = _email_row(book, event, client, provider, context, e.dedup_key, moment)
            row.to, row.attachments = to, [dict(ref) for ref in e.attachments]
            row.language = client["language"]
            row.reply_to = e.reply_to
            rows.append(row)
        _enqueue_send(_insert_emails(rows))
    return len(rows)


def email_addresses(
    *,
    event: str,
    recipients: Sequence[str],
    context: Mapping[str, Any],
    reply_to: str = "",
    provider_id: int | None = None,
    locale: str = "",
    dedup_key: str = "",
    name: str = "",
) -> int:
    """Queue one email of ``event`` to each address (people who are not clients: staff of a
    support department, the unknown sender of a ticket), sent after commit; returns how many.
    ``name`` greets them (templates see it as ``client.name``). A ``dedup_key`` already used
    (suffixed with the address) queues nothing again."""
    if event not in Event.values:
        raise UnknownEvent(f"{event!r} is not an event", event=event)
    provider = {} if provider_id is None else _one(selectors.get_providers_info, provider_id)
    book = selectors.get_template_book(event=event)
    rendered = render_first(
        book,
        channel=Channel.EMAIL,
        provider_id=provider_id,
        locale=locale or settings.LANGUAGE_CODE,
        context=build_context(client=_addressee(name), provider=_public(provider), extra=context),
    )
    moment = clock.now()
    keys = {address: f"{dedup_key}:{address}"[:200] if dedup_key else "" for address in recipients}
    with transaction.atomic():
        rows = [
            OutboundEmail(
                to=address,
                from_email=_from_address(provider),
                reply_to=reply_to,
                subject=rendered.subject,
                body=rendered.body,
                html=rendered.html,
                event=event,
                provider_id=provider.get("id"),
                dedup_key=keys[address],
                created_at=moment,
                next_attempt_at=moment,
            )
            for address in dict.fromkeys(recipients)
            if address
        ]
        ids = _insert_emails(rows)
        _enqueue_send(ids)
    return len(rows)


def _addressee(name: str) -> dict[str, Any]:
    """The ``client`` of a template sent to someone who is not a client."""
    return {"id": None, "name": name, "email": "", "contact_person": "", "language": ""}


# --- Sending ------------------------------------------------------------------------------


def send_outbound_email(*, outbound_id: int, now: datetime | None = None) -> str:
    """Send one queued email and return its status afterwards.

    Claims the row first (a conditional update), so a row already sent, failed or being sent
    by another worker is left alone (its status is returned). A transient failure (connection
    refused, timeout, 4xx) keeps it queued and raises ``RetryableError`` until ``MAX_ATTEMPTS``,
    then marks it failed; a permanent one (5xx, bad address or header) marks it failed at once.
    """
    moment = clock.now(now)
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=moment - CLAIM_LEASE)
    claimed = OutboundEmail.objects.filter(
        Q(pk=outbound_id, status=EmailStatus.QUEUED) & free
    ).update(claimed_at=moment, attempts=F("attempts") + 1)
    row = OutboundEmail.objects.filter(pk=outbound_id).first()
    if row is None:
        raise EmailNotFound(f"No outbound email {outbound_id}", outbound_id=outbound_id)
    if not claimed:
        return row.status
    try:
        _deliver(row)
    except (smtplib.SMTPException, OSError, ValueError, BillowError) as exc:
        return _record_failure(row, exc, moment)
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=EmailStatus.SENT, sent_at=clock.now(), claimed_at=None, error=""
    )
    return EmailStatus.SENT


def _deliver(row: OutboundEmail) -> None:
    connection = get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or SMTP_TIMEOUT)
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body,
        from_email=row.from_email,
        to=[row.to],
        connection=connection,
        # RFC 3834: mail we send by ourselves; autoresponders must not answer it (no loops)
        headers={"X-Billow-Email-Id": str(row.pk), "Auto-Submitted": "auto-generated"},
        reply_to=[row.reply_to] if row.reply_to else None,
    )
    if row.html:
        message.attach_alternative(row.html, "text/html")
    for item in build_attachments(row.attachments, row.language or settings.LANGUAGE_CODE):
        message.attach(item.filename, item.content, item.mimetype)
    message.send()


def _is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False  # a configuration problem: retry, staff may fix the settings meanwhile
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    # bad header, unencodable address; an attachment that can't be built (its document is
    # gone, its kind unknown) won't be built by a retry either
    return isinstance(exc, ValueError | BillowError)


def _record_failure(row: OutboundEmail, exc: BaseException, moment: datetime) -> str:
    attempts = row.attempts  # already counts this attempt (the claim incremented it)
    error = f"{type(exc).__name__}: {exc}"[:2000]
    final = _is_permanent(exc) or attempts >= MAX_ATTEMPTS
    status = EmailStatus.FAILED if final else EmailStatus.QUEUED
    delay = timedelta(seconds=EMAIL_RETRY.backoff_delay(max(attempts, 1)))
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=status, error=error, claimed_at=None, next_attempt_at=moment + delay
    )
    if final:
        logger.error("email %s to %s failed after %d attempts: %s", row.pk, row.to, attempts, error)
        return status
    raise RetryableError(f"email {row.pk}: {error}", outbound_id=row.pk, attempts=attempts)


def requeue_stuck_emails(
    *, now: datetime | None = None, grace: timedelta = timedelta(minutes=5), limit: int = 1000
) -> int:
    """Janitor: enqueue ``send_email`` again for queued rows whose job was lost (due more than
    ``grace`` ago, not claimed or claim expired, attempts left). Returns how many."""
    moment = clock.now(now)
    rows = OutboundEmail.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=moment - CLAIM_LEASE),
        status=EmailStatus.QUEUED,
        next_attempt_at__lte=moment - grace,
        attempts__lt=MAX_ATTEMPTS,
    )
    ids = list(rows.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    _enqueue_send(ids)
    return len(ids)


# --- Client and staff actions -------------------------------------------------------------


def mark_notification_read(
    *,
    notification_id: int,
    client_id: int,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Notification:
    """Mark a client's own notification read (idempotent: the first read time stays).
    Another client's notification gives ``not_found``, as if it did not exist."""
    moment = clock.now(now)
    rows = Notification.objects.filter(pk=notification_id, client_id=client_id)
    rows.filter(read_at__isnull=True).update(read_at=moment)
    found = rows.first()
    if found is None:
        raise NotificationNotFound(f"No notification {notification_id}")
    return found


def resend_email(
    *, outbound_id: int, actor: Actor | None = None, now: datetime | None = None
) -> OutboundEmail:
    """Queue a fresh copy of an email (any status) and send it after commit; the original row
    stays as it was. Refusal: ``not_found``."""
    moment = clock.now(now)
    original = OutboundEmail.objects.filter(pk=outbound_id).first()
    if original is None:
        raise EmailNotFound(f"No outbound email {outbound_id}", outbound_id=outbound_id)
    with transaction.atomic():
        copy = OutboundEmail.objects.create(
            to=original.to,
            from_email=original.from_email,
            reply_to=original.reply_to,
            subject=original.subject,
            body=original.body,
            html=original.html,
            event=original.event,
            client_id=original.client_id,
            provider_id=original.provider_id,
            attachments=original.attachments,
            language=original.language,
            created_at=moment,
            next_attempt_at=moment,
        )
        _enqueue_send([copy.pk])
    logger.info("email %s resent as %s by %s", outbound_id, copy.pk, actor or "system")
    return copy
