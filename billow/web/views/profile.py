"""Profile and security: language, and links to allauth's email, password and MFA pages."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billow.web.access import client_of, client_view


@client_view()
def profile(request: HttpRequest) -> HttpResponse:
    kinds = set(Authenticator.objects.filter(user=request.user).values_list("type", flat=True))
    context = {
        "client": client_of(request),
        "mfa_totp": Authenticator.Type.TOTP in kinds,
        "mfa_webauthn": Authenticator.Type.WEBAUTHN in kinds,
        "languages": settings.LANGUAGES,
    }
    return render(request, "web/profile.html", context)
