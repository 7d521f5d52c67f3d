"""S3 storage on the service page: buckets (create, delete, public / private, static website)
and access keys (create -- the secret shown once --, revoke), through
``services.object_storage`` on the client's own RGW user."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billow.accounts.models import ClientPermission
from billow.core.errors import BillowError
from billow.services import object_storage
from billow.services.models import Service
from billow.web import selectors
from billow.web.access import client_of, client_view
from billow.web.views.common import refused

SERVICES = ClientPermission.SERVICES
DETAIL = "web:service_detail"


def storage_context(service: Service) -> dict[str, Any] | None:
    """The S3 block of the service page (None when the service has no object storage)."""
    if not object_storage.has_object_storage(service):
        return None
    context: dict[str, Any] = {"settings": object_storage.client_settings(service)}
    try:
        storage = object_storage.storage_of(service)
        context["buckets"] = storage.list_buckets()
        context["keys"] = storage.list_keys()
        context["max_keys"] = storage.config.max_access_keys
    except BillowError as exc:
        context["error"] = f"{exc} ({exc.code})"
    return context


def _service(request: HttpRequest, pk: int) -> Service:
    return selectors.get_service(client_of(request), pk)


def _storage(request: HttpRequest, pk: int) -> object_storage.UserStorage:
    return object_storage.storage_of(_service(request, pk))


@client_view(SERVICES)
@require_POST
def bucket_create(request: HttpRequest, pk: int) -> HttpResponse:
    name = request.POST.get("name", "").strip()
    try:
        _storage(request, pk).create_bucket(name)
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    messages.success(request, _("Bucket %(name)s created.") % {"name": name})
    return redirect(DETAIL, pk)


@client_view(SERVICES)
@require_POST
def bucket_delete(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    delete_objects = request.POST.get("delete_objects") == "1"
    if delete_objects and request.POST.get("confirm", "").strip() != name:
        messages.error(request, _("Type the bucket name to delete it with all its objects."))
        return redirect(DETAIL, pk)
    try:
        _storage(request, pk).delete_bucket(name, delete_objects=delete_objects)
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    messages.success(request, _("Bucket %(name)s deleted.") % {"name": name})
    return redirect(DETAIL, pk)


@client_view(SERVICES)
@require_POST
def bucket_access(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    public = request.POST.get("public") == "1"
    try:
        _storage(request, pk).set_public(name, public)
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    messages.success(
        request,
        _("Bucket %(name)s is public.") % {"name": name}
        if public
        else _("Bucket %(name)s is private.") % {"name": name},
    )
    return redirect(DETAIL, pk)


@client_view(SERVICES)
@require_POST
def bucket_website(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    try:
        storage = _storage(request, pk)
        if request.POST.get("enabled") == "1":
            storage.set_website(
                name,
                index=request.POST.get("index", "").strip() or "index.html",
                error=request.POST.get("error", "").strip(),
            )
            messages.success(request, _("The website of %(name)s is on.") % {"name": name})
        else:
            storage.disable_website(name)
            messages.success(request, _("The website of %(name)s is off.") % {"name": name})
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    return redirect(DETAIL, pk)


@client_view(SERVICES)
@require_POST
def key_create(request: HttpRequest, pk: int) -> HttpResponse:
    service = _service(request, pk)
    try:
        key = object_storage.storage_of(service).create_key()
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    # Rendered, not redirected: the secret is in this response only and stored nowhere.
    context = {
        "s": service,
        "key": key,
        "settings": object_storage.client_settings(service, key),
    }
    response = render(request, "web/services/s3_new_key.html", context)
    response["Cache-Control"] = "no-store"
    return response


@client_view(SERVICES)
@require_POST
def key_revoke(request: HttpRequest, pk: int, access_key: str) -> HttpResponse:
    try:
        _storage(request, pk).revoke_key(access_key)
    except BillowError as exc:
        return refused(request, exc, DETAIL, pk)
    messages.success(request, _("Access key %(key)s revoked.") % {"key": access_key})
    return redirect(DETAIL, pk)
