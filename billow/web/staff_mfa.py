"""Staff MFA (issue 13.5): with ``BILLOW_STAFF_MFA_REQUIRED`` (on unless the environment turns
it off; the demo and the test suite's defaults turn it off), a staff member without a TOTP
authenticator or a passkey is sent to the MFA enrolment page before any admin page. Logging
out of the admin stays possible."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

#: Authenticators that count as a second factor (recovery codes alone do not).
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def staff_has_second_factor(user: object) -> bool:
    return Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).exists()


def needs_enrolment(request: HttpRequest) -> bool:
    """A staff member who must enrol a second factor before this admin page."""
    if not getattr(settings, "BILLOW_STAFF_MFA_REQUIRED", True):
        return False
    user = request.user
    if not (user.is_authenticated and user.is_staff):
        return False
    admin_root = reverse("admin:index")
    if not request.path.startswith(admin_root) or request.path == reverse("admin:logout"):
        return False
    return not staff_has_second_factor(user)


class StaffMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase | HttpResponse:
        if needs_enrolment(request):
            messages.warning(
                request,
                _("Staff must enrol an authenticator app or a passkey before using the admin."),
            )
            target = reverse("mfa_index") + "?" + urlencode({"next": request.get_full_path()})
            return redirect(target)
        return self.get_response(request)
