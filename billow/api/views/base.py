"""Base views: the acting client, the actor, object lookup scoped to the client."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.serializers import Serializer

from billow.api.models import ApiToken
from billow.api.permissions import acting_client_user
from billow.core.actors import Actor

_M = TypeVar("_M", bound=Model)


def actor_for(request: Request) -> Actor:
    """Who acts: the token (for token requests), else the staff or client user."""
    if isinstance(request.auth, ApiToken):
        return Actor.api_token(
            request.auth.pk, f"{request.user.get_username()}/{request.auth.name}"
        )
    if request.user.is_staff:
        return Actor.staff(request.user)
    return Actor.client_user(request.user)


def validated(serializer_class: type[Serializer], data: Any, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class BaseView(generics.GenericAPIView):
    """Every API view: declares ``scope``; object lookups 404 outside the caller's reach."""

    scope = ""
    scope_level: str | None = None

    @property
    def actor(self) -> Actor:
        return actor_for(self.request)

    @staticmethod
    def get_or_404(queryset: QuerySet[_M], **lookup: Any) -> _M:
        obj = queryset.filter(**lookup).first()
        if obj is None:
            raise Http404
        return obj


class ClientView(BaseView):
    """A view acting for the request's client (``self.client_user`` / ``self.client_id``)."""

    @property
    def client_user(self) -> Any:
        return acting_client_user(self.request)

    @property
    def client_id(self) -> int:
        return int(self.client_user.client_id)
