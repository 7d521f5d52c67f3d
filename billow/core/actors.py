"""Who did it. Every action takes ``actor=``; audit rows store its kind and id."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from billow.core.errors import ValidationError

#: Width of the ``actor_id`` column in audit tables.
ACTOR_ID_MAX_LENGTH = 64


class ActorKind(StrEnum):
    SYSTEM = "system"
    STAFF = "staff"
    CLIENT_USER = "client_user"
    API_TOKEN = "api_token"  # noqa: S105 - a kind name, not a secret
    JOB = "job"


ACTOR_KIND_CHOICES = [
    (ActorKind.SYSTEM.value, "System"),
    (ActorKind.STAFF.value, "Staff member"),
    (ActorKind.CLIENT_USER.value, "Client user"),
    (ActorKind.API_TOKEN.value, "API token"),
    (ActorKind.JOB.value, "Background job"),
]


class UserLike(Protocol):
    """What we need of a Django user: its primary key and username."""

    @property
    def pk(self) -> Any: ...

    def get_username(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """An immutable description of who performs an action: ``kind``, ``id`` (text) and ``label``.

    ``id`` is the user / token primary key as text ("" for the system); ``label`` is for humans.
    """

    kind: ActorKind
    id: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _kind(self.kind))
        if not isinstance(self.id, str) or len(self.id) > ACTOR_ID_MAX_LENGTH:
            raise ValidationError("actor id must be text of at most 64 chars", code="invalid_actor")

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, "", label)

    @classmethod
    def staff(cls, user: UserLike) -> Actor:
        return cls(ActorKind.STAFF, _user_id(user), user.get_username())

    @classmethod
    def client_user(cls, user: UserLike) -> Actor:
        return cls(ActorKind.CLIENT_USER, _user_id(user), user.get_username())

    @classmethod
    def api_token(cls, token_id: object, label: str = "") -> Actor:
        return cls(ActorKind.API_TOKEN, str(token_id), label)

    @classmethod
    def job(cls, name: str) -> Actor:
        return cls(ActorKind.JOB, "", name)

    def audit_fields(self) -> dict[str, str]:
        """The ``actor_kind`` / ``actor_id`` columns of an audit row."""
        return {"actor_kind": self.kind.value, "actor_id": self.id}

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.label or self.id}"


def _kind(value: object) -> ActorKind:
    try:
        return ActorKind(str(value))
    except ValueError:
        raise ValidationError(f"Unknown actor kind {value!r}", code="invalid_actor") from None


def _user_id(user: UserLike) -> str:
    if user.pk is None:
        raise ValidationError("the user must be saved before it can act", code="invalid_actor")
    return str(user.pk)


def resolve_actor(actor: Actor | None) -> Actor:
    """Actions default to the system actor when none is given."""
    return Actor.system() if actor is None else actor
