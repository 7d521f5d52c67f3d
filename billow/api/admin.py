"""Admin for API tokens: staff create a token for a user (the secret is shown once, in a
message) and revoke tokens; rows are never edited. Idempotency records are read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from billow.api.actions import create_api_token, revoke_api_token
from billow.api.models import ApiToken, IdempotencyRecord
from billow.api.scopes import SCOPES
from billow.core.actors import Actor
from billow.core.errors import BillowError


class ApiTokenForm(forms.ModelForm):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.order_by("username"))
    scopes = forms.MultipleChoiceField(
        choices=[(k, f"{k} — {v}") for k, v in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name", "scopes", "expires_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin):
    form = ApiTokenForm
    list_display = [
        "name",
        "user",
        "prefix",
        "scopes",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:  # pragma: no cover - change is disabled
            return
        data = form.cleaned_data
        try:
            token, raw = create_api_token(
                user=data["user"],
                name=data["name"],
                scopes=data["scopes"],
                expires_at=data.get("expires_at"),
                actor=Actor.staff(request.user),
            )
        except BillowError as exc:
            self.message_user(request, f"{exc.code}: {exc.message}", messages.ERROR)
            return
        obj.pk = token.pk
        obj.__dict__.update(token.__dict__)
        self.message_user(
            request, f"Token created. Copy it now, it is not shown again: {raw}", messages.WARNING
        )

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        done = 0
        for token in queryset.filter(revoked_at__isnull=True):
            revoke_api_token(token=token, actor=Actor.staff(request.user))
            done += 1
        self.message_user(request, f"Revoked {done} token(s).", messages.SUCCESS)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ModelAdmin):
    list_display = ["key", "user", "method", "path", "response_status", "created_at"]
    search_fields = ["key", "path", "user__username"]
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
