"""Users of the client and their permissions. The owner (or a user holding the ``users``
permission) invites users; an invitee gets an email with a link to set a password."""

from __future__ import annotations

from allauth.account.forms import ResetPasswordForm
from allauth.account.models import EmailAddress
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billow.accounts import actions as accounts
from billow.accounts.models import ClientPermission, ClientUser
from billow.core.errors import BillowError
from billow.web import forms, selectors
from billow.web.access import actor_of, client_of, client_user_of, client_view, forbidden

USERS = ClientPermission.USERS


@client_view(USERS)
def user_list(request: HttpRequest) -> HttpResponse:
    users = selectors.list_client_users(client_of(request))
    labels = dict(ClientPermission.choices)
    return render(request, "web/users/list.html", {"users": users, "labels": labels})


def send_invitation(request: HttpRequest, client_user: ClientUser) -> None:
    """The invitee's address is recorded (unverified) and gets a set-your-password link."""
    email = client_user.user.email
    EmailAddress.objects.get_or_create(
        user=client_user.user, email=email, defaults={"primary": True, "verified": False}
    )
    form = ResetPasswordForm(data={"email": email})
    if form.is_valid():
        form.save(request)


@client_view(USERS)
def user_invite(request: HttpRequest) -> HttpResponse:
    form = forms.InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invited = accounts.invite_client_user(
                client=client_of(request),
                email=form.cleaned_data["email"],
                permissions=form.cleaned_data["permissions"],
                acting=client_user_of(request),
                actor=actor_of(request),
            )
        except BillowError as exc:
            form.add_error("email" if exc.code == "email_taken" else None, str(exc))
        else:
            send_invitation(request, invited)
            messages.success(request, _("The invitation was sent."))
            return redirect("web:user_list")
    return render(request, "web/users/invite.html", {"form": form})


def _editable(request: HttpRequest, pk: int) -> ClientUser | None:
    """The target, or None when the owner / self rule refuses (asked before the form shows;
    the actions apply the same rule again)."""
    target = selectors.get_client_user(client_of(request), pk)
    try:
        accounts.check_client_user_manageable(target=target, acting=client_user_of(request))
    except BillowError:
        return None
    return target


@client_view(USERS)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    target = _editable(request, pk)
    if target is None:
        return forbidden(request, _("The owner and your own permissions cannot be changed."))
    form = forms.PermissionsForm(request.POST or None, initial={"permissions": target.permissions})
    if request.method == "POST" and form.is_valid():
        try:
            accounts.set_client_user_permissions(
                client_user=target,
                permissions=form.cleaned_data["permissions"],
                acting=client_user_of(request),
                actor=actor_of(request),
            )
        except BillowError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The permissions were saved."))
            return redirect("web:user_list")
    return render(request, "web/users/edit.html", {"form": form, "target": target})


@client_view(USERS)
@require_POST
def user_remove(request: HttpRequest, pk: int) -> HttpResponse:
    target = _editable(request, pk)
    if target is None:
        return forbidden(request, _("The owner and you yourself cannot be removed."))
    try:
        accounts.remove_client_user(
            client_user=target, acting=client_user_of(request), actor=actor_of(request)
        )
    except BillowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The user was removed."))
    return redirect("web:user_list")
