"""Every catalog write replaces the catalog token (see ``cache``)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models.signals import m2m_changed, post_delete, post_save

from . import cache

_SKIP = {"CatalogVersion"}


def _bump(sender: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # fixtures loading: the migration's row is replaced anyway
    if kwargs.get("action", "post_").startswith("pre_"):
        return
    cache.bump()


def connect() -> None:
    for model in apps.get_app_config("catalog").get_models():
        if model.__name__ in _SKIP:
            continue
        post_save.connect(_bump, sender=model, dispatch_uid=f"catalog-bump-save-{model.__name__}")
        post_delete.connect(_bump, sender=model, dispatch_uid=f"catalog-bump-del-{model.__name__}")
        for field in model._meta.many_to_many:
            m2m_changed.connect(
                _bump, sender=field.remote_field.through,
                dispatch_uid=f"catalog-bump-m2m-{model.__name__}-{field.name}",
            )  # fmt: skip
