"""Authentication: sign-up registers a client, verification is mandatory, brute force is
refused, security headers are sent."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client as HttpClient

from billow.accounts.models import AccountEvent, Client, ClientUser
from tests.web.conftest import PASSWORD, WebWorld

pytestmark = pytest.mark.django_db
SIGNUP = {"email": "New.Person@Example.com", "password1": PASSWORD, "password2": PASSWORD}


def test_sign_up_creates_a_client_with_its_owner_and_sends_the_verification(
    web: WebWorld,
) -> None:
    # when someone signs up
    response = HttpClient().post("/accounts/signup/", SIGNUP)
    # then they must verify their email first
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    client = Client.objects.get(email="new.person@example.com")
    owner = ClientUser.objects.get(client=client)
    assert (owner.is_owner, owner.user.email, owner.user.username) == (
        True,
        "new.person@example.com",
        "new.person@example.com",
    )
    assert list(client.providers.all()) == [web.world.provider]
    assert owner.user.check_password(PASSWORD)
    address = EmailAddress.objects.get(user=owner.user)
    assert (address.email, address.verified, address.primary) == (
        "new.person@example.com",
        False,
        True,
    )
    assert AccountEvent.objects.filter(client=client, type="client.created").count() == 1
    assert [m.to for m in mail.outbox] == [["new.person@example.com"]]
    assert "/accounts/confirm-email/" in mail.outbox[0].body


def test_the_verification_link_verifies_and_logs_in(web: WebWorld) -> None:
    http = HttpClient()
    http.post("/accounts/signup/", SIGNUP)
    link = re.search(r"https?://[^/]+(/accounts/confirm-email/\S+/)", mail.outbox[0].body)
    assert link is not None
    response = http.post(link.group(1))
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="new.person@example.com").verified is True
    assert http.get("/").status_code == 200


def test_an_unverified_owner_cannot_log_in(web: WebWorld) -> None:
    HttpClient().post("/accounts/signup/", SIGNUP)
    http = HttpClient()
    response = http.post("/accounts/login/", {"login": SIGNUP["email"], "password": PASSWORD})
    assert response["Location"] == "/accounts/confirm-email/"
    assert http.get("/").status_code == 302


def test_sign_up_is_closed_without_an_active_provider(db: None) -> None:
    response = HttpClient().get("/accounts/signup/")
    assert "Sign Up Closed" in response.content.decode()
    assert Client.objects.count() == 0


def test_a_taken_email_creates_nothing(web: WebWorld) -> None:
    clients, users = Client.objects.count(), User.objects.count()
    data = {**SIGNUP, "email": "owner-a@example.com"}
    HttpClient().post("/accounts/signup/", data)
    assert (Client.objects.count(), User.objects.count()) == (clients, users)


def test_login_by_email_reaches_the_dashboard(web: WebWorld) -> None:
    http = HttpClient()
    response = http.post("/accounts/login/", {"login": "owner-a@example.com", "password": PASSWORD})
    assert response["Location"] == "/"
    assert http.get("/").status_code == 200


def test_the_sixth_wrong_password_in_a_minute_is_refused(web: WebWorld) -> None:
    # given five wrong passwords from one address (for different accounts)
    http = HttpClient(REMOTE_ADDR="203.0.113.9")
    for i in range(5):
        r = http.post("/accounts/login/", {"login": f"x{i}@example.com", "password": "wrong"})
        assert (
            "The email address and/or password you specified are not correct." in r.content.decode()
        )
    # when the sixth attempt comes, even with the right password
    sixth = http.post("/accounts/login/", {"login": "owner-a@example.com", "password": PASSWORD})
    # then it is refused with a clear message and nobody is logged in
    assert sixth.status_code == 200
    assert "Too many failed login attempts. Try again later." in sixth.content.decode()
    assert "_auth_user_id" not in http.session
    # and another address is not affected
    other = HttpClient(REMOTE_ADDR="203.0.113.10")
    ok = other.post("/accounts/login/", {"login": "owner-a@example.com", "password": PASSWORD})
    assert ok.status_code == 302


def test_five_wrong_passwords_for_one_email_lock_that_email(web: WebWorld) -> None:
    for i in range(5):
        HttpClient(REMOTE_ADDR=f"198.51.100.{i}").post(
            "/accounts/login/", {"login": "owner-a@example.com", "password": "wrong"}
        )
    r = HttpClient(REMOTE_ADDR="198.51.100.99").post(
        "/accounts/login/", {"login": "owner-a@example.com", "password": PASSWORD}
    )
    assert "Too many failed login attempts. Try again later." in r.content.decode()


def test_pages_carry_a_strict_csp_and_security_headers(web: WebWorld) -> None:
    response = web.a.http.get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp or csp.endswith("script-src 'self'")
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_admin_login_goes_through_allauth() -> None:
    """Needs ``admin.site.login = secure_admin_login(admin.site.login)`` in config/urls.py."""
    response = HttpClient().get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_argon2_is_the_first_hasher_in_production_settings() -> None:
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.PASSWORD_HASHERS[0])"
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={"DJANGO_SETTINGS_MODULE": "config.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "django.contrib.auth.hashers.Argon2PasswordHasher"
