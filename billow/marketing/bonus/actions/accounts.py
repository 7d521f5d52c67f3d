"""Bonus accounts: creation (with the welcome bonus), consent, turning off and on, and
switching a program on (every client of the provider gets an account then)."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billow.accounts.models import Client
from billow.core import clock
from billow.core.actors import Actor, resolve_actor
from billow.marketing.bonus import selectors
from billow.marketing.bonus.actions.points import (
    MovementInfo,
    credit_points,
    expiry_date,
)
from billow.marketing.bonus.errors import BonusError, BonusProgramNotFoundError
from billow.marketing.bonus.models import (
    BonusAccount,
    BonusAccountStatus,
    BonusConsent,
    BonusMovement,
    BonusProgram,
    MovementKind,
)


def welcome_key(account: BonusAccount) -> str:
    return f"bonus:welcome:{account.pk}"


def ensure_bonus_account(
    *, client_id: int, provider_id: int, actor: Actor | None = None, now: datetime | None = None
) -> BonusAccount | None:
    """The client's bonus account with the provider, created on first need when the provider
    has an enabled program (None otherwise). Creating it credits the welcome bonus (once per
    account: keyed by the account, so turning it off and on never credits it again; with
    mandatory consent it waits for the consent)."""
    program = selectors.get_enabled_program(provider_id)
    if program is None:
        return None
    moment = clock.now(now)
    account = selectors.get_account(provider_id, client_id)
    if account is not None:
        return account
    with transaction.atomic():
        try:
            with transaction.atomic():
                account = BonusAccount.objects.create(
                    provider_id=provider_id, client_id=client_id, created_at=moment
                )
        except IntegrityError:
            return BonusAccount.objects.get(provider_id=provider_id, client_id=client_id)
        grant_welcome_bonus(account=account, program=program, actor=actor, now=moment)
    return account


def grant_welcome_bonus(
    *, account: BonusAccount, program: BonusProgram, actor: Actor | None, now: datetime
) -> BonusMovement | None:
    """Credit the welcome bonus if the program gives one, runs, and the client may earn; the
    key is the account's, so it is credited at most once per account."""
    if not (program.welcome_enabled and program.welcome_points > 0):
        return None
    if not selectors.may_earn(program, account, now.date()):
        return None
    return credit_points(
        account_id=account.pk,
        kind=MovementKind.WELCOME,
        points=program.welcome_points,
        key=welcome_key(account),
        expires_on=expiry_date(program, now),
        info=MovementInfo(source="welcome", description=_("Welcome bonus")),
        actor=actor,
        now=now,
    )


def give_bonus_consent(
    *,
    client: Client,
    provider_id: int,
    ip: str | None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> BonusAccount:
    """Record the client's consent to the program's current text (version, time, IP) and
    credit the welcome bonus if it was waiting for it."""
    moment = clock.now(now)
    program = selectors.get_enabled_program(provider_id)
    if program is None:
        raise BonusProgramNotFoundError("the provider has no bonus program")
    who = resolve_actor(actor)
    with transaction.atomic():
        account = ensure_bonus_account(
            client_id=client.pk, provider_id=provider_id, actor=actor, now=moment
        )
        assert account is not None
        account = BonusAccount.objects.select_for_update().get(pk=account.pk)
        BonusConsent.objects.create(
            account=account,
            version=program.consent_version,
            given_at=moment,
            ip=ip or None,
            **who.audit_fields(),
        )
        account.consent_version = program.consent_version
        account.consented_at = moment
        account.consent_ip = ip or None
        account.save(update_fields=["consent_version", "consented_at", "consent_ip"])
        grant_welcome_bonus(account=account, program=program, actor=actor, now=moment)
    account.refresh_from_db()
    return account


def set_bonus_account_status(
    *, account: BonusAccount, status: str, actor: Actor | None = None
) -> BonusAccount:
    """Turn the account off (no accrual, no spending; points are kept) or on again."""
    if status not in BonusAccountStatus.values:
        raise BonusError("status is active or off", code="invalid_status")
    BonusAccount.objects.filter(pk=account.pk).update(status=status)
    account.refresh_from_db()
    return account


def enable_bonus_program(
    *, program: BonusProgram, actor: Actor | None = None, now: datetime | None = None
) -> int:
    """Switch the program on and give every client of the provider an account (the welcome
    bonus for each new one, by the rules above). Returns the accounts created."""
    moment = clock.now(now)
    with transaction.atomic():
        BonusProgram.objects.filter(pk=program.pk).update(enabled=True)
        program.refresh_from_db()
        client_ids = list(
            Client.providers.through.objects.filter(provider_id=program.provider_id).values_list(
                "client_id", flat=True
            )
        )
        have = set(
            BonusAccount.objects.filter(provider_id=program.provider_id).values_list(
                "client_id", flat=True
            )
        )
        created = 0
        for client_id in client_ids:
            if client_id in have:
                continue
            ensure_bonus_account(
                client_id=client_id, provider_id=program.provider_id, actor=actor, now=moment
            )
            created += 1
    return created
