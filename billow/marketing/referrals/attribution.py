"""Who brought whom: partners joining, clicks on their links, sign-ups through a link or a click
id, referrals through a partner's promo code, and staff linking / unlinking by hand.

A link is ``<program website URL>?from=<partner id>``. When the website is Billow itself the
client area registers the click on arrival; an external site calls the click endpoint with
the link (``p``) and passes the click id it gets back on sign-up (``?click=<id>``).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q

from billow.accounts.models import Client, ClientGroup
from billow.core import clock
from billow.core.actors import Actor
from billow.core.periods import add_months
from billow.marketing.promos.actions import create_promo_code
from billow.marketing.promos.models import PromoCodeUse, PromoUseStatus
from billow.marketing.referrals.errors import (
    ReferralConflictError,
    ReferralError,
    ReferralNotFoundError,
)
from billow.marketing.referrals.models import (
    TEMPLATE_MACRO,
    Referral,
    ReferralClick,
    ReferralPartner,
    ReferralProgram,
    ReferralSource,
)
from billow.marketing.referrals.programs import record_event


def partner_link(partner: ReferralPartner, program: ReferralProgram | None = None) -> str:
    """The partner's referral link (empty when the program has no website URL)."""
    base = (program or partner.program).website_url
    if not base:
        return ""
    return f"{base}{'&' if '?' in base else '?'}from={partner.pk}"


def may_take_part(program: ReferralProgram, client: Client) -> bool:
    """The client's groups allow it in the program: no group forbids referral participation or
    is one of the program's forbidden groups; with allowed groups set, it is in one of them
    (or in a group whose participation is "allow")."""
    groups = list(ClientGroup.objects.filter(clients=client))
    ids = {g.pk for g in groups}
    if any(g.referral_participation == "forbid" for g in groups):
        return False
    if program.forbidden_groups.filter(pk__in=ids).exists():
        return False
    allowed = set(program.allowed_groups.values_list("pk", flat=True))
    if not allowed:
        return True
    return bool(ids & allowed) or any(g.referral_participation == "allow" for g in groups)


def join_referral_program(
    *,
    client: Client,
    program: ReferralProgram,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> ReferralPartner:
    """Make ``client`` a partner of ``program`` (idempotent: returns the existing partner),
    with its promo code from the template. Refusals: ``referral_program_not_found`` (inactive
    or ended), ``referral_not_allowed`` (the client's groups)."""
    moment = clock.now(now)
    existing = ReferralPartner.objects.filter(program=program, client=client).first()
    if existing is not None:
        return existing
    if not program.is_active or (program.ends_on is not None and program.ends_on < moment.date()):
        raise ReferralNotFoundError("the program is not active", code="referral_program_not_found")
    if not may_take_part(program, client):
        raise ReferralError("the client's groups forbid the program", code="referral_not_allowed")
    try:
        with transaction.atomic():
            partner = ReferralPartner.objects.create(
                program=program, client=client, joined_at=moment
            )
            promotion = program.promotion if program.promo_code_template else None
            if promotion is not None:
                code = program.promo_code_template.replace(TEMPLATE_MACRO, str(partner.pk))
                partner.promo_code = create_promo_code(promotion=promotion, code=code)
                partner.save(update_fields=["promo_code"])
            record_event(
                actor,
                "referral.partner_joined",
                {"partner": partner.pk, "client": client.pk},
                program_id=program.pk,
                now=moment,
            )
    except IntegrityError:  # a concurrent join won
        return ReferralPartner.objects.get(program=program, client=client)
    return partner


def _partner_of_link(url: str) -> tuple[ReferralPartner, str]:
    """The partner a link names, checked against its program's website URL."""
    parts = urlsplit(url.strip())
    values = parse_qs(parts.query).get("from", [])
    if len(values) != 1 or not values[0].isdigit():
        raise ReferralNotFoundError("the link names no partner", code="referral_partner_not_found")
    partner = ReferralPartner.objects.select_related("program").filter(pk=int(values[0])).first()
    if partner is None or not partner.program.is_active:
        raise ReferralNotFoundError("no such partner", code="referral_partner_not_found")
    expected = partner_link(partner)
    if not expected or url.strip() != expected:
        raise ReferralError(
            "the link does not match the program's website URL", code="referral_click_url_mismatch"
        )
    return partner, expected


def register_click(
    *, url: str, ip: str | None = None, now: datetime | None = None
) -> ReferralClick:
    """Record a visit through a partner's link (exactly ``<website URL>?from=<partner id>``)
    and return it; its ``token`` is the click id to pass on sign-up."""
    partner, link = _partner_of_link(url)
    return ReferralClick.objects.create(
        partner=partner,
        token=secrets.token_hex(16),
        url=link,
        ip=ip or None,
        created_at=clock.now(now),
    )


def register_visit(
    *, partner_id: int, ip: str | None = None, now: datetime | None = None
) -> ReferralClick | None:
    """A visit to Billow itself with ``?from=<partner id>``: a click of that partner (None when
    there is no such active partner)."""
    partner = ReferralPartner.objects.select_related("program").filter(pk=partner_id).first()
    if partner is None or not partner.program.is_active:
        return None
    return ReferralClick.objects.create(
        partner=partner,
        token=secrets.token_hex(16),
        url=partner_link(partner) or f"?from={partner.pk}",
        ip=ip or None,
        created_at=clock.now(now),
    )


def _reward_until(program: ReferralProgram, joined: datetime) -> datetime | None:
    months = program.referral_period_months
    return add_months(joined, months) if months else None


def _link(
    *,
    client: Client,
    partner: ReferralPartner,
    source: str,
    detail: str,
    click: ReferralClick | None,
    actor: Actor | None,
    moment: datetime,
) -> Referral:
    if partner.client_id == client.pk:
        raise ReferralError("a client cannot refer itself", code="referral_self")
    program = partner.program
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                partner=partner,
                client=client,
                source=source,
                source_detail=detail[:500],
                click=click,
                joined_at=moment,
                reward_until=_reward_until(program, moment),
            )
            record_event(
                actor,
                "referral.linked",
                {"client": client.pk, "partner": partner.pk, "source": source, "from": detail},
                program_id=program.pk,
                now=moment,
            )
    except IntegrityError:
        raise ReferralConflictError(
            "the client already is a referral", code="referral_exists"
        ) from None
    return referral


def attribute_signup(
    *,
    client: Client,
    partner_id: int | None = None,
    click_token: str = "",
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Referral | None:
    """At sign-up: link the new client to the partner of its click id (an external site) or of
    its ``?from=`` link, and make it a partner of its provider's automatic program. Never
    refuses a sign-up: an unknown partner or click is no referral (None)."""
    moment = clock.now(now)
    referral = None
    click = None
    if click_token:
        click = (
            ReferralClick.objects.select_related("partner__program")
            .filter(token=click_token)
            .first()
        )
    partner = click.partner if click is not None else None
    if partner is None and partner_id is not None:
        partner = ReferralPartner.objects.select_related("program").filter(pk=partner_id).first()
    if partner is not None and partner.program.is_active:
        detail = (
            click.url if click is not None else (partner_link(partner) or f"?from={partner.pk}")
        )
        try:
            referral = _link(
                client=client,
                partner=partner,
                source=ReferralSource.LINK,
                detail=detail,
                click=click,
                actor=actor,
                moment=moment,
            )
        except (ReferralError, ReferralConflictError):
            referral = None
    for program in ReferralProgram.objects.filter(
        provider__in=client.providers.all(), assign_automatically=True, is_active=True
    ):
        try:
            join_referral_program(client=client, program=program, actor=actor, now=moment)
        except (ReferralError, ReferralNotFoundError):
            continue
    return referral


def link_referral(
    *,
    client: Client,
    partner: ReferralPartner,
    reason: str,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Referral:
    """Staff: link ``client`` to ``partner`` by hand (source "manually"). Refusals:
    ``reason_required``, ``referral_self``, ``referral_exists``."""
    if not reason.strip():
        raise ReferralError("a reason is required", code="reason_required")
    return _link(
        client=client,
        partner=partner,
        source=ReferralSource.MANUAL,
        detail=reason.strip(),
        click=None,
        actor=actor,
        moment=clock.now(now),
    )


def unlink_referral(
    *, client: Client, reason: str, actor: Actor | None = None, now: datetime | None = None
) -> Referral:
    """Staff: end the client's live referral; its later charges earn nothing (rewards already
    accrued stay). Refusals: ``reason_required``, ``referral_not_linked``."""
    if not reason.strip():
        raise ReferralError("a reason is required", code="reason_required")
    moment = clock.now(now)
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update()
            .select_related("partner")
            .filter(client=client, unlinked_at__isnull=True)
            .first()
        )
        if referral is None:
            raise ReferralNotFoundError("the client is no referral", code="referral_not_linked")
        referral.unlinked_at = moment
        referral.save(update_fields=["unlinked_at"])
        record_event(
            actor,
            "referral.unlinked",
            {"client": client.pk, "partner": referral.partner_id, "reason": reason.strip()},
            program_id=referral.partner.program_id,
            now=moment,
        )
    return referral


def attribute_promo_code_uses(*, now: datetime | None = None) -> int:
    """Referrals through partners' promo codes: every confirmed (paid) use of a partner's code
    by a client that is no live referral yet links it (source "promo code", joined when the
    use was confirmed). Codes work on a first order only (their promotion says so), so this
    is the referral's first order. Returns how many were linked."""
    moment = clock.now(now)
    live = Referral.objects.filter(client_id=OuterRef("client_id"), unlinked_at__isnull=True)
    uses = (
        PromoCodeUse.objects.filter(
            status=PromoUseStatus.CONFIRMED,
            code_id__in=ReferralPartner.objects.filter(promo_code__isnull=False).values(
                "promo_code_id"
            ),
        )
        .filter(~Exists(live))
        .filter(
            ~Q(
                client_id__in=Referral.objects.filter(source=ReferralSource.PROMO_CODE).values(
                    "client_id"
                )
            )
        )
        .select_related("code")
        .order_by("id")
    )
    partners = {
        p.promo_code_id: p
        for p in ReferralPartner.objects.select_related("program")
        .filter(promo_code__isnull=False)
        .filter(promo_code_id__in=[u.code_id for u in uses])
    }
    linked = 0
    for use in uses:
        partner = partners.get(use.code_id)
        if partner is None or not partner.program.is_active:
            continue
        try:
            _link(
                client=Client(pk=use.client_id),
                partner=partner,
                source=ReferralSource.PROMO_CODE,
                detail=use.code.code if use.code else "",
                click=None,
                actor=Actor.system("referral_daily"),
                moment=min(use.updated_at, moment),
            )
            linked += 1
        except (ReferralError, ReferralConflictError):
            continue
    return linked
