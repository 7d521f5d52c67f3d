"""The signed-in user's own API tokens (session only: a token never mints tokens)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from billow.api.actions import create_api_token, revoke_api_token
from billow.api.permissions import ScopePermission, SessionOnly
from billow.api.selectors import list_tokens_for_user
from billow.api.serializers.client import TokenCreatedOut, TokenIn, TokenOut
from billow.api.views.base import BaseView, validated


class TokensMixin(BaseView):
    scope = "account"
    permission_classes = [ScopePermission, SessionOnly]

    def get_queryset(self) -> QuerySet[Any]:
        return list_tokens_for_user(self.request.user)


class TokenListView(TokensMixin, generics.ListAPIView):
    serializer_class = TokenOut

    @extend_schema(request=TokenIn, responses={201: TokenCreatedOut})
    def post(self, request: Request) -> Response:
        data = validated(TokenIn, request.data)
        token, raw = create_api_token(user=request.user, actor=self.actor, **data)
        body = dict(TokenOut(token).data, token=raw)
        return Response(body, status=status.HTTP_201_CREATED)


class TokenDetailView(TokensMixin):
    @extend_schema(responses=TokenOut)
    def get(self, request: Request, token_id: int) -> Response:
        return Response(TokenOut(self.get_or_404(self.get_queryset(), pk=token_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, token_id: int) -> Response:
        token = self.get_or_404(self.get_queryset(), pk=token_id)
        revoke_api_token(token=token, actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)
