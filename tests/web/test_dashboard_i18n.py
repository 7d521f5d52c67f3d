"""Dashboard figures, locale formatting, the language switch and the staff dashboard."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.utils import translation

from billow.notifications.models import Notification
from billow.web import formatting
from billow.web.admin_dashboard import get_staff_dashboard
from billow.web.selectors import get_dashboard
from tests.web.conftest import WebWorld

pytestmark = pytest.mark.django_db


def test_money_is_formatted_per_locale() -> None:
    cases = {"en": "$1,234.50", "ru": "1 234,50 $", "es": "1.234,50 US$"}
    for lang, expected in cases.items():
        with translation.override(lang):
            assert formatting.money(123450, "USD").replace("\xa0", " ") == expected
    with translation.override("en"):
        assert formatting.money(-5, "JPY") == "-¥5"
        assert formatting.day(date(2025, 3, 1)) == "Mar 1, 2025"
    with translation.override("ru"):
        assert formatting.day(date(2025, 3, 1)) == "1 мар. 2025\u202fг."  # noqa: RUF001


def test_the_dashboard_recommends_the_amount_to_pay(web: WebWorld) -> None:
    # given a balance of 490.00 and 60 more services renewing on 10 February at 10.00
    for _ in range(60):
        web.world.service(
            web.a.client, web.tariff, date(2025, 1, 10), charge=False, paid_until=date(2025, 2, 10)
        )
    # when the renewals are outside the notice window (10 days: LowMoneyNoticePeriod's largest)
    info = get_dashboard(web.a.client, today=date(2025, 1, 20))
    assert (info.balances, info.topups, info.window_days) == ([("USD", 49000)], [], 10)
    # when they are inside it: what they need less the balance
    info = get_dashboard(web.a.client, today=date(2025, 2, 1))
    assert info.topups == [("USD", 61 * 1000 - 49000)]
    assert info.by_status == [("active", "Active", 61)]


def test_the_dashboard_shows_unread_notifications(web: WebWorld) -> None:
    Notification.objects.create(client=web.a.client, event="x", title="Renewal soon", body="b")
    Notification.objects.create(client=web.b.client, event="x", title="Not yours", body="b")
    html = web.a.http.get("/").content.decode()
    assert "Renewal soon" in html and "Not yours" not in html
    assert "$490.00" in html


def test_the_language_switch_translates_the_client_area(web: WebWorld) -> None:
    http = web.a.http
    response = http.post("/i18n/setlang/", {"language": "ru", "next": "/services/"})
    assert response["Location"] == "/services/"
    html = http.get("/").content.decode()
    assert '<html lang="ru">' in html
    assert "Панель" in html  # "Dashboard"
    assert "490,00" in html
    http.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert "Servicios" in http.get("/").content.decode()


@time_machine.travel(date(2025, 1, 20), tick=False)
def test_the_staff_dashboard_figures(web: WebWorld) -> None:
    # given two active monthly services at 10.00 and one yearly at 100.00
    web.world.service(web.b.client, web.tariff, date(2025, 1, 10), period="12m")
    board = get_staff_dashboard()
    assert board.active == 3
    assert board.mrr == [("USD", 2000 + round(10000 / 12))]
    assert board.balances == [("USD", 49000 + 39000, 0)]
    assert (board.failed_operations, board.open_tasks, board.last_run) == (0, 0, None)


def test_the_admin_index_shows_the_dashboard(web: WebWorld) -> None:
    admin = User.objects.create_superuser("root", "root@example.com", "x")
    http = HttpClient()
    http.force_login(admin)
    html = http.get("/admin/").content.decode()
    assert "Monthly recurring revenue" in html
    assert "$20.00" in html
