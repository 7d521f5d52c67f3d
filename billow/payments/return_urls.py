"""Where a payer may be sent back after a hosted payment page: the site's own origin, or a host
listed in ``settings.PAYMENT_RETURN_HOSTS`` (an API client's own site). Anything else would make
Billow an open redirect (the probe: the sandbox page followed any https ``return_url``)."""

from __future__ import annotations

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme

from billow.payments.errors import PaymentError


def return_url_allowed(url: str, *, own_host: str) -> bool:
    """Whether ``url`` (absolute or a path) points at ``own_host`` or a configured host."""
    hosts = {own_host, *getattr(settings, "PAYMENT_RETURN_HOSTS", [])}
    return url_has_allowed_host_and_scheme(url, allowed_hosts=hosts)


def check_return_url(url: str, *, own_host: str) -> str:
    """``url`` when allowed (or empty); ``return_url_not_allowed`` otherwise."""
    if url and not return_url_allowed(url, own_host=own_host):
        raise PaymentError(
            "return_url must be on this site or a host in PAYMENT_RETURN_HOSTS",
            code="return_url_not_allowed",
            field="return_url",
        )
    return url
