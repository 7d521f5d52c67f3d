from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass

import pytest

from billow.core.actors import Actor, ActorKind, resolve_actor
from billow.core.errors import ValidationError


@dataclass
class FakeUser:
    pk: int | None
    username: str

    def get_username(self) -> str:
        return self.username


def test_constructors():
    assert Actor.system() == Actor(ActorKind.SYSTEM, "", "system")
    assert Actor.staff(FakeUser(7, "alice")) == Actor(ActorKind.STAFF, "7", "alice")
    assert Actor.client_user(FakeUser(9, "bob")) == Actor(ActorKind.CLIENT_USER, "9", "bob")
    assert Actor.api_token(12, "ci") == Actor(ActorKind.API_TOKEN, "12", "ci")
    assert Actor.job("billing_run") == Actor(ActorKind.JOB, "", "billing_run")


def test_kind_accepts_stored_codes():
    assert Actor("staff", "1").kind is ActorKind.STAFF  # type: ignore[arg-type]


def test_audit_fields_and_str():
    actor = Actor.staff(FakeUser(7, "alice"))
    assert actor.audit_fields() == {"actor_kind": "staff", "actor_id": "7"}
    assert str(actor) == "staff:alice"


def test_actor_is_frozen():
    actor = Actor.system()
    with pytest.raises(FrozenInstanceError):
        actor.id = "1"  # type: ignore[misc]


@pytest.mark.parametrize(
    "build",
    [
        lambda: Actor.staff(FakeUser(None, "ghost")),
        lambda: Actor("robot", "1"),  # type: ignore[arg-type]
        lambda: Actor(ActorKind.STAFF, "x" * 65),
        lambda: Actor(ActorKind.STAFF, 5),  # type: ignore[arg-type]
    ],
)
def test_invalid_actors(build):
    with pytest.raises(ValidationError) as exc:
        build()
    assert exc.value.code == "invalid_actor"


def test_resolve_actor_defaults_to_system():
    assert resolve_actor(None) == Actor.system()
    job = Actor.job("x")
    assert resolve_actor(job) is job


@pytest.mark.django_db
def test_staff_from_a_django_user(django_user_model):
    user = django_user_model.objects.create_user(username="carol", password="x", is_staff=True)
    assert Actor.staff(user) == Actor(ActorKind.STAFF, str(user.pk), "carol")
