"""allauth hook: a sign-up registers a Client (with its owner user) through the accounts actions.

allauth validates the form (email free, password rules) and afterwards records the email address
and sends the verification mail; only the user creation itself is replaced, so a new login is
always the owner of a new client connected to the first active provider.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils import translation

from billow.accounts.actions import create_client
from billow.accounts.models import Provider
from billow.core.actors import Actor
from billow.marketing.bonus.actions import ensure_bonus_account
from billow.marketing.referrals.attribution import attribute_signup
from billow.web.referral_links import SESSION_CLICK, SESSION_FROM


def signup_provider() -> Provider | None:
    """The provider new sign-ups are connected to: the first active one (by id)."""
    return Provider.objects.filter(is_active=True).order_by("id").first()


def _language() -> str:
    lang = (translation.get_language() or "en").split("-")[0]
    return lang if lang in ("en", "ru", "es") else "en"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return signup_provider() is not None and super().is_open_for_signup(request)

    def save_user(
        self, request: HttpRequest, user: AbstractBaseUser, form: Any, commit: bool = True
    ) -> AbstractBaseUser:
        if not commit:
            return super().save_user(request, user, form, commit=False)
        provider = signup_provider()
        if provider is None:  # is_open_for_signup said so a moment ago; a race at worst
            raise RuntimeError("sign-up needs an active provider")
        data = form.cleaned_data
        client = create_client(
            email=data["email"],
            providers=[provider],
            password=data.get("password1") or None,
            language=_language(),
            actor=Actor.system("signup"),
        )
        # A client registering with a provider that runs a bonus program gets its bonus account
        # now (and the welcome bonus, unless it waits for the client's consent).
        ensure_bonus_account(
            client_id=client.pk, provider_id=provider.pk, actor=Actor.system("signup")
        )
        _attribute_referral(request, client)
        return client.users.get(is_owner=True).user


def _attribute_referral(request: HttpRequest, client: Any) -> None:
    """The partner whose link or click brought this sign-up (kept in the session)."""
    session: Any = getattr(request, "session", {})
    attribute_signup(
        client=client,
        partner_id=session.get(SESSION_FROM),
        click_token=session.get(SESSION_CLICK, ""),
        actor=Actor.system("signup"),
    )
