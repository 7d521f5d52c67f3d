"""Referral links on arrival: ``?from=<partner id>`` (a link to Billow itself) records a click
of that partner once per session, and ``?click=<id>`` (a click an external site registered)
is kept; the sign-up links the new client to that partner (``web.adapter``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from billow.marketing.referrals.attribution import register_visit

SESSION_FROM = "referral_from"
SESSION_CLICK = "referral_click"


class ReferralLinkMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and ("from" in request.GET or "click" in request.GET):
            remember(request)
        return self.get_response(request)


def remember(request: HttpRequest) -> None:
    session: Any = request.session
    partner = request.GET.get("from", "")
    if partner.isdigit() and session.get(SESSION_FROM) != int(partner):
        click = register_visit(partner_id=int(partner), ip=request.META.get("REMOTE_ADDR"))
        if click is not None:
            session[SESSION_FROM] = int(partner)
            session[SESSION_CLICK] = click.token
    token = request.GET.get("click", "")
    if token and len(token) <= 32 and token.isalnum():
        session[SESSION_CLICK] = token
