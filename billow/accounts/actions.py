"""Accounts writes: providers, clients, client users, group membership, payers.

Every action is keyword-only, runs in one ``transaction.atomic()``, writes an ``AccountEvent`` in
the same transaction and, when it refuses (an accounts ``BillowError``), writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from billow.accounts import errors
from billow.accounts.models import (
    SELLER_FIELDS,
    AccountEvent,
    Client,
    ClientGroup,
    ClientGroupMembership,
    ClientStatus,
    ClientUser,
    MembershipSource,
    Payer,
    Provider,
    VerificationMethod,
    VerificationState,
)
from billow.accounts.selectors import forget_client_scope
from billow.accounts.validators import (
    PAYER_DATA_FIELDS,
    check_country,
    check_currency,
    check_email_free,
    check_language,
    check_payer,
    check_permissions,
    iban_checksum_valid,
)
from billow.core import clock
from billow.core.actors import Actor, ActorKind
from billow.core.audit import audit_kwargs


def _event(
    actor: Actor | None,
    type: str,
    data: dict[str, Any],
    *,
    client: Client | None = None,
    now: datetime | None = None,
) -> None:
    AccountEvent.objects.create(client=client, **audit_kwargs(actor, type, data, now=now))


def _field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    return {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}


# --- Providers --------------------------------------------------------------------------------


def create_provider(
    *,
    name: str,
    code: str,
    default_currency: str = "USD",
    email: str = "",
    support_email: str = "",
    site_url: str = "",
    billing_url: str = "",
    seller: Mapping[str, str] | None = None,
    actor: Actor | None = None,
) -> Provider:
    """Create a selling brand. Name and code are unique (``provider_exists``); the currency must
    be in the money table (``unknown_currency``); bad emails/URLs give ``provider_invalid``.
    ``seller``: the seller block of its invoices (``SELLER_FIELDS``: legal name and address,
    country, tax id, bank details); an unknown field or a bad IBAN is ``provider_invalid``,
    a bad country ``unknown_country``."""
    details = {k: v.strip() for k, v in (seller or {}).items()}
    unknown = sorted(set(details) - set(SELLER_FIELDS))
    if unknown:
        raise errors.ProviderInvalid(
            "Unknown seller fields", fields={f: ["unknown"] for f in unknown}
        )
    details["country"] = check_country(details.get("country", ""))
    details["iban"] = "".join(details.get("iban", "").split()).upper()
    if details["iban"] and not iban_checksum_valid(details["iban"]):
        raise errors.ProviderInvalid("The IBAN is not valid", fields={"iban": ["invalid"]})
    provider = Provider(
        name=name.strip(),
        code=code.strip(),
        default_currency=check_currency(default_currency),
        email=email.strip(),
        support_email=support_email.strip(),
        site_url=site_url.strip(),
        billing_url=billing_url.strip(),
        **details,
    )
    try:
        provider.full_clean()
    except DjangoValidationError as exc:
        fields = _field_errors(exc)
        if any(err.code == "unique" for errs in exc.error_dict.values() for err in errs):
            raise errors.ProviderExists(
                "A provider with this name or code exists", fields=fields
            ) from None
        raise errors.ProviderInvalid("Provider data is invalid", fields=fields) from None
    with transaction.atomic():
        try:
            with transaction.atomic():
                provider.save(force_insert=True)
        except IntegrityError:  # a concurrent insert won the race past full_clean()
            raise errors.ProviderExists("A provider with this name or code exists") from None
        _event(actor, "provider.created", {"provider_id": provider.pk, "code": provider.code})
    return provider


# --- Clients ----------------------------------------------------------------------------------


def _create_login(email: str, password: str | None) -> User:
    """A Django user whose login is the (normalized) email; ``email_taken`` on any clash."""
    user_model = get_user_model()
    user = user_model(username=email, email=email)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:  # the unique username caught a concurrent registration
        raise errors.EmailTaken(f"A user with email {email} already exists", email=email) from None
    return user


def create_client(
    *,
    email: str,
    providers: Iterable[Provider],
    name: str = "",
    language: str = "en",
    country: str = "",
    contact_person: str = "",
    comment: str = "",
    password: str | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Client:
    """Register a client (status inactive) with its owner user, connected to ``providers``.

    The owner is a Django user whose login is the lower-cased email, linked by a ``ClientUser``
    with ``is_owner=True``; without ``password`` its password is unusable (set on first login).
    The client's name defaults to the contact person, then the email. Refusals: ``email_taken``,
    ``client_invalid`` (bad email), ``unknown_language``, ``unknown_country``,
    ``provider_required``. A staff actor is recorded as ``registered_by``.
    """
    email = check_email_free(email)
    language = check_language(language)
    country = check_country(country)
    provider_list = list(providers)
    if not provider_list:
        raise errors.ProviderRequired("A client must be connected to at least one provider")
    moment = clock.now(now)
    with transaction.atomic():
        client = Client.objects.create(
            name=(name.strip() or contact_person.strip() or email)[:200],
            email=email,
            language=language,
            country=country,
            contact_person=contact_person.strip(),
            comment=comment,
            registered_by_id=_staff_user_id(actor),
            created_at=moment,
        )
        client.providers.set(provider_list)
        user = _create_login(email, password)
        ClientUser.objects.create(client=client, user=user, is_owner=True, created_at=moment)
        data = {"email": email, "provider_ids": sorted(p.pk for p in provider_list)}
        _event(actor, "client.created", data, client=client, now=moment)
    return client


def _staff_user_id(actor: Actor | None) -> int | None:
    if actor is None or actor.kind != ActorKind.STAFF or not actor.id.isdigit():
        return None
    return int(actor.id)


def set_client_status(
    *, client: Client, status: str, actor: Actor | None = None, now: datetime | None = None
) -> Client:
    """Set the client's status (``unknown_client_status`` otherwise). Idempotent: setting the
    current status writes no event."""
    if status not in ClientStatus.values:
        raise errors.UnknownClientStatus(f"Unknown client status {status!r}", status=status)
    with transaction.atomic():
        old = Client.objects.select_for_update().values_list("status", flat=True).get(pk=client.pk)
        client.status = status
        if old != status:
            Client.objects.filter(pk=client.pk).update(status=status)
            data = {"from": old, "to": status}
            _event(actor, "client.status_changed", data, client=client, now=now)
    return client


# --- Client users -----------------------------------------------------------------------------


def add_client_user(
    *,
    client: Client,
    email: str,
    permissions: Iterable[str] = (),
    password: str | None = None,
    acting: ClientUser | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> ClientUser:
    """Create a non-owner user of ``client`` with ``permissions`` (``ClientPermission`` values).

    Refusals: ``unknown_permission``, ``email_taken``, ``client_invalid`` (bad email),
    ``permission_not_grantable`` (a client user, ``acting``, granting what they don't hold).
    """
    perms = check_permissions(permissions)
    check_permissions_grantable(perms, acting=acting)
    email = check_email_free(email)
    moment = clock.now(now)
    with transaction.atomic():
        user = _create_login(email, password)
        client_user = ClientUser.objects.create(
            client=client, user=user, is_owner=False, permissions=perms, created_at=moment
        )
        data = {"client_user_id": client_user.pk, "email": email, "permissions": perms}
        _event(actor, "client_user.added", data, client=client, now=moment)
    return client_user


def invite_client_user(
    *,
    client: Client,
    email: str,
    permissions: Iterable[str] = (),
    acting: ClientUser | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> ClientUser:
    """Add a non-owner user without a password; the invitee sets one from the invitation.

    Same refusals as :func:`add_client_user`. (The invitation email is sent by notifications,
    from the ``client_user.added`` event, once that app exists.)
    """
    return add_client_user(
        client=client, email=email, permissions=permissions, acting=acting, actor=actor, now=now
    )


def check_permissions_grantable(
    permissions: Iterable[str], *, acting: ClientUser | None, already: Iterable[str] = ()
) -> None:
    """A client user (``acting``) grants only permissions they hold: a user trusted with
    ``users`` can't make a colleague (or a second login of their own) stronger than themselves.
    What the target ``already`` has may stay. The owner holds every permission; staff and the
    system pass ``None``."""
    if acting is None or acting.is_owner:
        return
    beyond = sorted(set(permissions) - set(already) - set(acting.permissions or []))
    if beyond:
        raise errors.PermissionNotGrantable(
            "You can grant only permissions you have yourself", permissions=beyond
        )


def check_client_user_manageable(*, target: ClientUser, acting: ClientUser | None) -> None:
    """The owner / self rule, one copy for the web and the API: nobody changes or removes the
    owner (``owner_immutable``), and a client user (``acting``) does not change or remove
    themselves (``client_user_not_manageable``, 403; staff and the system pass ``None``)."""
    if target.is_owner:
        raise errors.OwnerImmutable("The owner's permissions can't be changed")
    if acting is not None and (target.pk == acting.pk or target.client_id != acting.client_id):
        raise errors.ClientUserNotManageable(
            "The owner and your own permissions cannot be changed", client_user_id=target.pk
        )


def set_client_user_permissions(
    *,
    client_user: ClientUser,
    permissions: Iterable[str],
    acting: ClientUser | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> ClientUser:
    """Replace a non-owner's permissions. The owner has all rights and can't be changed
    (``owner_immutable``); unknown names give ``unknown_permission``; a client user
    (``acting``) changing the owner or themselves gets ``client_user_not_manageable``, granting
    what they don't hold ``permission_not_grantable``."""
    check_client_user_manageable(target=client_user, acting=acting)
    perms = check_permissions(permissions)
    check_permissions_grantable(perms, acting=acting, already=client_user.permissions or [])
    with transaction.atomic():
        before = list(client_user.permissions or [])
        client_user.permissions = perms
        client_user.save(update_fields=["permissions"])
        data = {"client_user_id": client_user.pk, "from": before, "to": perms}
        _event(actor, "client_user.permissions_set", data, client=client_user.client, now=now)
    return client_user


def remove_client_user(
    *,
    client_user: ClientUser,
    acting: ClientUser | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> None:
    """Remove a non-owner user: its link and its Django login are deleted (so the email can be
    invited again). The owner can't be removed (``owner_immutable``); a client user
    (``acting``) removing the owner or themselves gets ``client_user_not_manageable``."""
    check_client_user_manageable(target=client_user, acting=acting)
    client = client_user.client
    with transaction.atomic():
        data = {"client_user_id": client_user.pk, "email": client_user.user.email}
        user = client_user.user
        if user.is_staff or user.is_superuser:  # never delete a staff login; just unlink it
            client_user.delete()
        else:
            user.delete()  # cascades to the ClientUser row
        _event(actor, "client_user.removed", data, client=client, now=now)


# --- Group membership ------------------------------------------------------------------------


def add_client_to_group(
    *,
    client: Client,
    group: ClientGroup,
    source: str = MembershipSource.MANUAL,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> ClientGroupMembership:
    """Make ``client`` a member of ``group``. Idempotent: an existing membership is returned;
    a manual add upgrades an automatic membership to manual (so rules never remove it), an
    automatic add never downgrades a manual one. ``unknown_membership_source`` otherwise."""
    if source not in MembershipSource.values:
        raise errors.UnknownMembershipSource(f"Unknown membership source {source!r}")
    moment = clock.now(now)
    forget_client_scope(client)
    with transaction.atomic():
        membership, created = ClientGroupMembership.objects.get_or_create(
            client=client, group=group, defaults={"source": source, "added_at": moment}
        )
        upgrade = not created and source == MembershipSource.MANUAL
        if upgrade and membership.source != MembershipSource.MANUAL:
            membership.source = MembershipSource.MANUAL
            membership.save(update_fields=["source"])
        elif not created:
            return membership
        data = {"group_id": group.pk, "source": membership.source}
        _event(actor, "client.group_added", data, client=client, now=moment)
    return membership


def remove_client_from_group(
    *,
    client: Client,
    group: ClientGroup,
    source: str | None = None,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> bool:
    """End the membership; True when a row was removed. Idempotent. With ``source`` given
    (e.g. ``auto`` from a rule), only a membership of that source is removed."""
    if source is not None and source not in MembershipSource.values:
        raise errors.UnknownMembershipSource(f"Unknown membership source {source!r}")
    forget_client_scope(client)
    with transaction.atomic():
        rows = ClientGroupMembership.objects.filter(client=client, group=group)
        if source is not None:
            rows = rows.filter(source=source)
        deleted, _by_model = rows.delete()
        if deleted:
            _event(actor, "client.group_removed", {"group_id": group.pk}, client=client, now=now)
    return bool(deleted)


# --- Payers -----------------------------------------------------------------------------------


def _unknown_fields(fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - set(PAYER_DATA_FIELDS))
    if unknown:
        raise errors.PayerInvalid(
            "Unknown payer field(s): " + ", ".join(unknown),
            fields={f: ["unknown field"] for f in unknown},
        )


def create_payer(*, client: Client, kind: str, actor: Actor | None = None, **fields: Any) -> Payer:
    """Add a payer to ``client``. ``fields`` are payer data fields (``PAYER_DATA_FIELDS``).

    Company / sole proprietor need ``name`` and ``legal_country``; an individual's name is the
    person's name (``contact_person`` when ``name`` is empty) and has no legal address or fax;
    countries are ISO alpha-2. Refusal: ``payer_invalid`` with ``details["fields"]``.
    """
    _unknown_fields({"kind": kind, **fields})
    payer = Payer(client=client, kind=kind, **fields)
    check_payer(payer)
    with transaction.atomic():
        payer.save(force_insert=True)
        data = {"payer_id": payer.pk, "kind": payer.kind, "name": payer.name}
        _event(actor, "payer.created", data, client=client)
    return payer


def update_payer(*, payer: Payer, actor: Actor | None = None, **changes: Any) -> Payer:
    """Change payer data fields; the whole result is checked as in :func:`create_payer`.

    Verification is changed only by :func:`set_payer_verification`. On refusal the in-memory
    ``payer`` is reloaded, so the caller never sees values that were not saved.
    """
    _unknown_fields(changes)
    for field, value in changes.items():
        setattr(payer, field, value)
    try:
        check_payer(payer)
    except errors.PayerInvalid:
        payer.refresh_from_db()
        raise
    with transaction.atomic():
        payer.save(update_fields=list(PAYER_DATA_FIELDS))
        data = {"payer_id": payer.pk, "fields": sorted(changes)}
        _event(actor, "payer.updated", data, client=payer.client)
    return payer


def set_payer_verification(
    *,
    payer: Payer,
    state: str,
    method: str = VerificationMethod.NONE,
    actor: Actor | None = None,
    now: datetime | None = None,
) -> Payer:
    """Set the verification state and method; ``verified_at`` is ``now`` for ``verified`` and
    empty for every other state. ``verified`` needs a method (``verification_method_required``);
    ``unverified`` clears the method. Unknown values: ``unknown_verification_state`` /
    ``unknown_verification_method``."""
    if state not in VerificationState.values:
        raise errors.UnknownVerificationState(f"Unknown verification state {state!r}")
    if method not in VerificationMethod.values:
        raise errors.UnknownVerificationMethod(f"Unknown verification method {method!r}")
    if state == VerificationState.VERIFIED and not method:
        raise errors.VerificationMethodRequired("A verified payer needs a verification method")
    moment = clock.now(now)
    with transaction.atomic():
        payer.verification_state = state
        payer.verification_method = "" if state == VerificationState.UNVERIFIED else method
        payer.verified_at = moment if state == VerificationState.VERIFIED else None
        payer.save(update_fields=["verification_state", "verification_method", "verified_at"])
        data = {"payer_id": payer.pk, "state": state, "method": payer.verification_method}
        _event(actor, "payer.verification_set", data, client=payer.client, now=moment)
    return payer
