"""Staff MFA (issue 13.5): with the setting on, a staff member without TOTP or a passkey is
sent to MFA enrolment before any admin page; with one, the admin opens. The suite's default
has it off (tests/conftest.py), so these tests opt in."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def mfa_required(settings: Any) -> None:
    settings.BILLOW_STAFF_MFA_REQUIRED = True


@pytest.mark.parametrize("path", ["/admin/", "/admin/catalog/tariff/", "/admin/core/configchange/"])
def test_staff_without_mfa_is_sent_to_enrolment(
    mfa_required: None, admin_client: Client, path: str
) -> None:
    resp = admin_client.get(path)
    assert resp.status_code == 302
    assert resp["Location"] == "/accounts/2fa/?" + "next=" + path.replace("/", "%2F")


def test_enrolment_page_itself_opens(mfa_required: None, admin_client: Client) -> None:
    assert admin_client.get("/accounts/2fa/").status_code == 200


@pytest.mark.parametrize("kind", [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN])
def test_staff_with_totp_or_passkey_reaches_the_admin(
    mfa_required: None, admin_client: Client, admin_user: User, kind: str
) -> None:
    Authenticator.objects.create(user=admin_user, type=kind, data={})
    assert admin_client.get("/admin/").status_code == 200


def test_recovery_codes_alone_are_not_a_second_factor(
    mfa_required: None, admin_client: Client, admin_user: User
) -> None:
    Authenticator.objects.create(user=admin_user, type=Authenticator.Type.RECOVERY_CODES, data={})
    assert admin_client.get("/admin/").status_code == 302


def test_admin_logout_stays_open(mfa_required: None, admin_client: Client) -> None:
    assert admin_client.post("/admin/logout/").status_code == 200


def test_setting_off_lets_staff_in_without_mfa(admin_client: Client) -> None:
    # the suite's default (tests/conftest.py); production's default is on
    assert admin_client.get("/admin/").status_code == 200


def test_production_default_is_on() -> None:
    import config.settings as production

    assert production.BILLOW_STAFF_MFA_REQUIRED is True
