"""Staff admin for accounts (django-unfold).

Forms run the same validators as the actions (``billow.accounts.validators``), so staff get field
errors instead of bad rows. Creating a client and every state change (status, verification) go
through ``billow.accounts.actions``; verification fields are read-only here for that reason.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.db.models.fields import Field
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminURLInputWidget,
)

from billow.accounts import actions
from billow.accounts.countries import COUNTRY_CHOICES
from billow.accounts.errors import AccountsValidationError, EmailTaken
from billow.accounts.models import (
    SELLER_FIELDS,
    AccountEvent,
    Client,
    ClientGroup,
    ClientGroupMembership,
    ClientPermission,
    ClientStatus,
    ClientUser,
    Payer,
    Provider,
    VerificationMethod,
    VerificationState,
)
from billow.accounts.validators import (
    PAYER_DATA_FIELDS,
    check_country,
    check_currency,
    check_email,
    check_email_free,
    check_language,
    check_permissions,
    iban_checksum_valid,
    normalize_payer,
    payer_rule_errors,
)
from billow.core.actors import Actor
from billow.core.errors import BillowError

COUNTRY_FIELDS = frozenset({"country", "legal_country"})


def _refusal(exc: BillowError) -> forms.ValidationError:
    return forms.ValidationError(exc.message, code=exc.code)


class CountrySelectMixin:
    """Country columns become a select over the ISO table instead of a free text box."""

    def formfield_for_dbfield(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name in COUNTRY_FIELDS:
            return forms.ChoiceField(
                choices=[("", "---------"), *COUNTRY_CHOICES],
                required=not db_field.blank,
                label=str(db_field.verbose_name).capitalize(),
                widget=UnfoldAdminSelectWidget(),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]


# --- Forms ------------------------------------------------------------------------------------


class ProviderForm(forms.ModelForm):
    site_url = forms.URLField(
        label=_("web site"), required=False, assume_scheme="https", widget=UnfoldAdminURLInputWidget
    )
    billing_url = forms.URLField(
        label=_("billing URL"),
        required=False,
        assume_scheme="https",
        widget=UnfoldAdminURLInputWidget,
    )

    class Meta:
        model = Provider
        fields = [
            "name",
            "code",
            "default_currency",
            "email",
            "support_email",
            "site_url",
            "billing_url",
            "trial_scope",
            "is_active",
            *SELLER_FIELDS,
        ]

    def clean_default_currency(self) -> str:
        try:
            return check_currency(self.cleaned_data["default_currency"])
        except BillowError as exc:
            raise _refusal(exc) from None

    def clean_country(self) -> str:
        try:
            return check_country(self.cleaned_data.get("country", ""))
        except BillowError as exc:
            raise _refusal(exc) from None

    def clean_iban(self) -> str:
        iban = "".join(self.cleaned_data.get("iban", "").split()).upper()
        if iban and not iban_checksum_valid(iban):
            raise forms.ValidationError(_("This IBAN is not valid."), code="invalid_iban")
        return iban

    def clean_bic(self) -> str:
        return "".join(self.cleaned_data.get("bic", "").split()).upper()


class ClientForm(forms.ModelForm):
    class Meta:
        model = Client
        fields = ["name", "email", "providers", "language", "country", "contact_person", "comment"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        try:
            return check_email(email) if self.instance.pk else check_email_free(email)
        except (AccountsValidationError, EmailTaken) as exc:
            raise _refusal(exc) from None

    def clean_language(self) -> str:
        try:
            return check_language(self.cleaned_data["language"])
        except BillowError as exc:
            raise _refusal(exc) from None

    def clean_country(self) -> str:
        try:
            return check_country(self.cleaned_data.get("country", ""))
        except BillowError as exc:
            raise _refusal(exc) from None


class ClientUserForm(forms.ModelForm):
    permissions = forms.MultipleChoiceField(
        label=_("permissions"),
        choices=ClientPermission.choices,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text=_("Ignored for the owner, who may do everything."),
    )

    class Meta:
        model = ClientUser
        fields = ["client", "user", "permissions", "is_active"]

    def clean_permissions(self) -> list[str]:
        try:
            return check_permissions(self.cleaned_data.get("permissions") or [])
        except BillowError as exc:
            raise _refusal(exc) from None


class PayerForm(forms.ModelForm):
    """Runs the kind rules of ``create_payer`` / ``update_payer`` on the submitted values."""

    class Meta:
        model = Payer
        fields = ["client", *PAYER_DATA_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "name" in self.fields:  # an individual may leave it empty: the contact person is used
            self.fields["name"].required = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        probe = Payer(**{f: cleaned.get(f, getattr(self.instance, f)) for f in PAYER_DATA_FIELDS})
        normalize_payer(probe)
        for field, problems in payer_rule_errors(probe).items():
            self.add_error(field if field in self.fields else None, problems)
        for field in PAYER_DATA_FIELDS:
            if field in cleaned and field not in self.errors:
                cleaned[field] = getattr(probe, field)
        return cleaned


class OwnerProtectingFormSet(forms.BaseInlineFormSet):
    """Inline user rows: the owner can't be deleted from here."""

    def clean(self) -> None:
        super().clean()
        for form in self.forms:
            if form.cleaned_data.get("DELETE") and form.instance.is_owner:
                raise forms.ValidationError(_("The client's owner can't be removed."))


# --- Inlines ----------------------------------------------------------------------------------


class ClientUserInline(TabularInline):
    model = ClientUser
    form = ClientUserForm
    formset = OwnerProtectingFormSet
    fields = ["user", "is_owner", "permissions", "is_active"]
    readonly_fields = ["is_owner"]
    raw_id_fields = ["user"]
    extra = 0


class PayerInline(CountrySelectMixin, TabularInline):
    model = Payer
    form = PayerForm
    fields = [
        "kind",
        "name",
        "contact_person",
        "email",
        "legal_country",
        "country",
        "is_active",
        "verification_state",
    ]
    readonly_fields = ["verification_state"]
    extra = 0
    show_change_link = True


class MembershipInline(TabularInline):
    model = ClientGroupMembership
    fields = ["group", "source", "added_at"]
    readonly_fields = ["added_at"]
    extra = 0


class GroupMemberInline(MembershipInline):
    fields = ["client", "source", "added_at"]
    raw_id_fields = ["client"]


class MembershipThroughActionsMixin:
    """Membership inline rows are saved by ``add_client_to_group`` / ``remove_client_from_group``
    (so each change writes its event); a changed row is a removal plus an addition."""

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ClientGroupMembership:
            super().save_formset(request, form, formset, change)  # type: ignore[misc]
            return
        actor = Actor.staff(request.user)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            deleted = row in formset.deleted_forms
            existing = row.instance.pk is not None
            if (not existing and deleted) or (not deleted and not row.has_changed()):
                continue
            if existing:
                old = ClientGroupMembership.objects.select_related("client", "group")
                old_row = old.get(pk=row.instance.pk)
                actions.remove_client_from_group(
                    client=old_row.client, group=old_row.group, actor=actor
                )
                if deleted:
                    formset.deleted_objects.append(old_row)
                    continue
            client, group = _membership_parties(formset.instance, row.cleaned_data)
            membership = actions.add_client_to_group(
                client=client, group=group, source=row.cleaned_data["source"], actor=actor
            )
            if existing:
                formset.changed_objects.append((membership, row.changed_data))
            else:
                formset.new_objects.append(membership)


def _membership_parties(
    parent: Client | ClientGroup, data: dict[str, Any]
) -> tuple[Client, ClientGroup]:
    if isinstance(parent, Client):
        return parent, data["group"]
    return data["client"], parent


# --- Model admins -----------------------------------------------------------------------------


@admin.register(Provider)
class ProviderAdmin(CountrySelectMixin, ModelAdmin):
    form = ProviderForm
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "code",
                    "default_currency",
                    "email",
                    "support_email",
                    "site_url",
                    "billing_url",
                    "is_active",
                ]
            },
        ),
        (_("Seller details on invoices"), {"fields": list(SELLER_FIELDS)}),
    ]
    list_display = ["name", "code", "default_currency", "is_active", "client_count"]
    list_filter = ["is_active", "default_currency"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Provider]:
        return super().get_queryset(request).annotate(num_clients=Count("clients"))

    @display(description=_("clients"), ordering="num_clients")
    def client_count(self, obj: Provider) -> int:
        return obj.num_clients  # type: ignore[attr-defined]


@admin.register(Client)
class ClientAdmin(MembershipThroughActionsMixin, CountrySelectMixin, ModelAdmin):
    form = ClientForm
    list_display = ["id", "name", "email", "status", "language", "country", "created_at", "page"]
    list_display_links = ["id", "name"]
    list_filter = ["status", "groups", "providers", "language", "country"]
    search_fields = ["=id", "name", "email", "contact_person"]
    filter_horizontal = ["providers"]
    readonly_fields = ["page", "status", "created_at", "registered_by"]
    inlines = [ClientUserInline, PayerInline, MembershipInline]
    actions = ["activate_clients", "deactivate_clients"]

    @display(description=_("client page"))
    def page(self, obj: Client) -> str:
        """The one client page (billow.web.admin_client: balances, services, log in as)."""
        if obj.pk is None:
            return "-"
        url = reverse("admin:accounts_client_overview", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open the client page"))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The email is the owner's login; changing it is not an edit of this row.
        extra = ["email"] if obj is not None else []
        return [*self.readonly_fields, *extra]

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        try:
            created = actions.create_client(
                email=data["email"],
                providers=data["providers"],
                name=data.get("name", ""),
                language=data["language"],
                country=data.get("country", ""),
                contact_person=data.get("contact_person", ""),
                comment=data.get("comment", ""),
                actor=Actor.staff(request.user),
            )
        except BillowError as exc:  # a concurrent registration took the email after clean()
            raise forms.ValidationError(exc.message) from exc
        # The admin goes on to save m2m and inlines against ``obj``: make it the created row.
        obj.pk = created.pk
        obj.created_at = created.created_at
        obj.registered_by_id = created.registered_by_id
        obj._state.adding = False

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Client], status: str) -> None:
        actor = Actor.staff(request.user)
        for client in queryset:
            actions.set_client_status(client=client, status=status, actor=actor)
        self.message_user(request, _("%d client(s) updated.") % queryset.count(), messages.SUCCESS)

    @action(description=_("Activate selected clients"))
    def activate_clients(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        self._set_status(request, queryset, ClientStatus.ACTIVE)

    @action(description=_("Deactivate selected clients"))
    def deactivate_clients(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        self._set_status(request, queryset, ClientStatus.INACTIVE)


@admin.register(ClientGroup)
class ClientGroupAdmin(MembershipThroughActionsMixin, ModelAdmin):
    list_display = ["name", "member_count", "allow_suspend_resume", "allow_delete"]
    search_fields = ["name"]
    inlines = [GroupMemberInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClientGroup]:
        return super().get_queryset(request).annotate(num_members=Count("memberships"))

    @display(description=_("members"), ordering="num_members")
    def member_count(self, obj: ClientGroup) -> int:
        return obj.num_members  # type: ignore[attr-defined]


@admin.register(Payer)
class PayerAdmin(CountrySelectMixin, ModelAdmin):
    form = PayerForm
    list_display = ["id", "name", "kind", "client", "verification_state", "verification_method"]
    list_filter = ["verification_state", "verification_method", "kind", "is_active"]
    search_fields = ["=id", "name", "email", "tax_id", "client__name", "client__email"]
    raw_id_fields = ["client"]
    readonly_fields = ["verification_state", "verification_method", "verified_at", "created_at"]
    actions = ["mark_verified_documents", "mark_unverified"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.readonly_fields, *(["client"] if obj is not None else [])]

    def save_model(self, request: HttpRequest, obj: Payer, form: Any, change: bool) -> None:
        """Saved by ``create_payer`` / ``update_payer`` so the change writes its event."""
        actor = Actor.staff(request.user)
        if change:
            changed = {f: getattr(obj, f) for f in form.changed_data if f in PAYER_DATA_FIELDS}
            stored = Payer.objects.select_related("client").get(pk=obj.pk)
            actions.update_payer(payer=stored, actor=actor, **changed)
            return
        data = {f: getattr(obj, f) for f in PAYER_DATA_FIELDS if f != "kind"}
        created = actions.create_payer(client=obj.client, kind=obj.kind, actor=actor, **data)
        obj.pk, obj.created_at = created.pk, created.created_at
        obj._state.adding = False

    def _verify(self, request: HttpRequest, queryset: QuerySet[Payer], state: str) -> None:
        actor = Actor.staff(request.user)
        method = VerificationMethod.DOCUMENTS if state == VerificationState.VERIFIED else ""
        for payer in queryset.select_related("client"):
            actions.set_payer_verification(payer=payer, state=state, method=method, actor=actor)
        self.message_user(request, _("%d payer(s) updated.") % queryset.count(), messages.SUCCESS)

    @action(description=_("Mark verified (documents)"))
    def mark_verified_documents(self, request: HttpRequest, queryset: QuerySet[Payer]) -> None:
        self._verify(request, queryset, VerificationState.VERIFIED)

    @action(description=_("Mark not verified"))
    def mark_unverified(self, request: HttpRequest, queryset: QuerySet[Payer]) -> None:
        self._verify(request, queryset, VerificationState.UNVERIFIED)


@admin.register(ClientUser)
class ClientUserAdmin(ModelAdmin):
    form = ClientUserForm
    list_display = ["user", "client", "is_owner", "is_active", "created_at"]
    list_filter = ["is_owner", "is_active"]
    search_fields = ["user__username", "user__email", "client__name", "=client__id"]
    raw_id_fields = ["user", "client"]
    readonly_fields = ["is_owner", "created_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_owner:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(AccountEvent)
class AccountEventAdmin(ModelAdmin):
    """Read-only: events are written by actions only."""

    list_display = ["created_at", "type", "client", "actor_kind", "actor_id"]
    list_filter = ["type", "actor_kind"]
    search_fields = ["type", "=client__id", "actor_id"]
    raw_id_fields = ["client"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
