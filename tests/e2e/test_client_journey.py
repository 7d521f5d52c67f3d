"""The main client path in a real browser: sign up, verify the email, enable TOTP, log in with
it, see the dashboard, open a service and toggle auto-renew. Saves the README screenshots."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import Page, expect

from billow.accounts.models import Client
from billow.core import clock
from billow.services.models import Service
from tests.billing.world import World
from tests.e2e.conftest import sign_up_and_verify

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
EMAIL = "journey@example.com"
PASSWORD = "a-long-journey-2025"


_used_windows: set[int] = set()


def totp(secret: str) -> str:
    """A TOTP code from a window not used before (allauth refuses a replayed code), taken with
    at least 5 s left in its 30 s window (allauth's default tolerance is 0 windows)."""
    while int(time.time()) // 30 in _used_windows or 30 - time.time() % 30 < 5:
        time.sleep(30 - time.time() % 30 + 0.1)
    window = int(time.time()) // 30
    _used_windows.add(window)
    return format_hotp_value(hotp_value(secret, window))


def seed_services(client: Client, world: World) -> Service:
    """Give the new client a balance and a few services in different states."""
    vps = world.tariff("VPS Pro", {"1m": 1500, "12m": 16200})
    small = world.tariff("VPS Start", {"1m": 500})
    world.topup(client, 12000)
    today = clock.now().date()
    service = world.service(client, vps, today - timedelta(days=12), name="web-01")
    world.service(client, small, today - timedelta(days=3), name="staging")
    old = world.service(client, small, today - timedelta(days=40), name="old-db", charge=False)
    Service.objects.filter(pk=old.pk).update(
        status="suspended_nonpayment", paid_until=today - timedelta(days=10)
    )
    return service


def enable_totp(page: Page, base: str) -> str:
    page.goto(f"{base}/accounts/2fa/totp/activate/")
    if "/reauthenticate/" in page.url:
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    secret = page.input_value("#authenticator_secret")
    page.fill("#id_code", totp(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("body")).not_to_contain_text("Incorrect code")
    return secret


def log_in_with_totp(page: Page, base: str, secret: str) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page).to_have_url(f"{base}/accounts/2fa/authenticate/")
    page.fill("#id_code", totp(secret))
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_sign_up_verify_totp_dashboard_and_auto_renew(
    live_server: Any, page: Page, smtp: Any
) -> None:
    base = live_server.url
    world = World()  # the provider sign-ups connect to, and its catalog
    page.set_viewport_size({"width": 1280, "height": 860})

    sign_up_and_verify(page, base, smtp, EMAIL, PASSWORD)
    client = Client.objects.get(email=EMAIL)
    service = seed_services(client, world)
    secret = enable_totp(page, base)
    log_in_with_totp(page, base, secret)

    page.reload()
    expect(page.locator("main")).to_contain_text("$100.00")  # 120.00 - 15.00 - 5.00
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)

    page.get_by_role("link", name="web-01 #").first.click()
    toggle = page.get_by_role("switch")
    expect(toggle).to_have_attribute("aria-checked", "true")
    toggle.click()
    expect(page.get_by_role("switch")).to_have_attribute("aria-checked", "false")
    service.refresh_from_db()
    assert service.auto_renew_period == ""
    page.get_by_role("switch").click()
    expect(page.get_by_role("switch")).to_have_attribute("aria-checked", "true")
    service.refresh_from_db()
    assert service.auto_renew_period == "1m"
    page.select_option("#id_tariff", label="VPS Start")
    expect(page.locator("#preview")).to_contain_text("New price per period")
    page.screenshot(path=str(SHOTS / "service.png"), full_page=True)

    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(SHOTS / "service-mobile.png"), full_page=True)
