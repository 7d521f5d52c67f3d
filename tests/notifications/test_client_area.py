"""Selectors and actions the client area will use: list and mark read (own notifications only)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billow.core.errors import NotFoundError
from billow.notifications.actions import mark_notification_read
from billow.notifications.models import Notification
from billow.notifications.selectors import count_unread_for_client, list_notifications_for_client

from .conftest import T0

pytestmark = pytest.mark.django_db


def _note(client, title: str, minutes: int, read: bool = False) -> Notification:
    at = T0 + timedelta(minutes=minutes)
    return Notification.objects.create(
        client=client,
        event="low_balance",
        title=title,
        body="",
        created_at=at,
        read_at=at if read else None,
    )


def test_list_newest_first_and_unread_only(client_en, client_ru) -> None:
    _note(client_en, "old", 1, read=True)
    _note(client_en, "new", 2)
    _note(client_ru, "someone else's", 3)
    all_titles = [n.title for n in list_notifications_for_client(client_id=client_en.pk)]
    unread = list_notifications_for_client(client_id=client_en.pk, unread_only=True)
    assert all_titles == ["new", "old"]
    assert [n.title for n in unread] == ["new"]
    assert count_unread_for_client(client_id=client_en.pk) == 1


def test_mark_read_is_idempotent(client_en) -> None:
    note = _note(client_en, "n", 1)
    first = mark_notification_read(
        notification_id=note.pk, client_id=client_en.pk, now=T0 + timedelta(hours=1)
    )
    again = mark_notification_read(
        notification_id=note.pk, client_id=client_en.pk, now=T0 + timedelta(hours=2)
    )
    assert first.read_at == again.read_at == T0 + timedelta(hours=1)


def test_another_clients_notification_is_not_found_and_stays_unread(client_en, client_ru) -> None:
    note = _note(client_ru, "hers", 1)
    with pytest.raises(NotFoundError) as exc:
        mark_notification_read(notification_id=note.pk, client_id=client_en.pk)
    assert exc.value.code == "not_found"
    assert Notification.objects.get(pk=note.pk).read_at is None
