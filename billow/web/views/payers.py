"""Payers: list, add, edit (through the accounts actions)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from billow.accounts import actions as accounts
from billow.accounts.errors import PayerInvalid
from billow.accounts.models import ClientPermission
from billow.core.errors import BillowError
from billow.web import forms, selectors
from billow.web.access import actor_of, client_of, client_view

PAYERS = ClientPermission.PAYERS


@client_view(PAYERS)
def payer_list(request: HttpRequest) -> HttpResponse:
    payers = selectors.list_payers(client_of(request))
    return render(request, "web/payers/list.html", {"payers": payers})


def _add_errors(form: forms.PayerForm, exc: BillowError) -> None:
    fields = (exc.details or {}).get("fields") or {}
    for name, errs in fields.items():
        form.add_error(name if name in form.fields else None, errs)
    if not fields:
        form.add_error(None, str(exc))


@client_view(PAYERS)
def payer_create(request: HttpRequest) -> HttpResponse:
    form = forms.PayerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "kind"}
        try:
            accounts.create_payer(
                client=client_of(request),
                kind=form.cleaned_data["kind"],
                actor=actor_of(request),
                **data,
            )
        except PayerInvalid as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The payer was added."))
            return redirect("web:payer_list")
    return render(request, "web/payers/form.html", {"form": form, "payer": None})


@client_view(PAYERS)
def payer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    payer = selectors.get_payer(client_of(request), pk)
    form = forms.PayerForm(request.POST or None, instance=payer)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.update_payer(
                payer=selectors.get_payer(client_of(request), pk),
                actor=actor_of(request),
                **form.cleaned_data,
            )
        except PayerInvalid as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The payer was saved."))
            return redirect("web:payer_list")
    return render(request, "web/payers/form.html", {"form": form, "payer": payer})
