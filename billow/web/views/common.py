"""Helpers shared by the client-area views."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from billow.core.errors import BillowError


def refused(request: HttpRequest, exc: BillowError, to: str, *args: Any) -> HttpResponse:
    """Show an action's refusal (its message and stable code) and go back."""
    messages.error(request, f"{exc} ({exc.code})")
    return redirect(to, *args)
