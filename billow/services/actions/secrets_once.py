"""Secrets a module returned once (a dedicated server's root credentials): the client takes
them once, then they are gone from Billow (issue 18)."""

from __future__ import annotations

from django.db import transaction

from billow.services.models import OperationStatus, Service, ServiceOperation


def take_open_secret(*, service: Service, field: str = "credentials") -> str | None:
    """Remove ``field`` from the result of the service's succeeded ``open`` and return it
    (None when there is none or it was taken already). Under the service's row lock, so two
    clicks reveal it once."""
    with transaction.atomic():
        Service.objects.select_for_update().filter(pk=service.pk).first()
        op = (
            ServiceOperation.objects.select_for_update()
            .filter(service=service, operation="open", status=OperationStatus.SUCCEEDED)
            .order_by("-id")
            .first()
        )
        if op is None or not op.result.get(field):
            return None
        result = dict(op.result)
        secret = str(result.pop(field))
        result[f"{field}_taken"] = True
        op.result = result
        op.save(update_fields=["result"])
    return secret
