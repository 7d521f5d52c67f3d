"""Every catalog write replaces the catalog token (see ``cache``), and so does every write of
the other configuration the hot paths cache under the same token: providers, promotions, tax
rules and module instances (named by label, so the catalog imports none of those apps)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models.signals import m2m_changed, post_delete, post_save

from . import cache

_SKIP = {"CatalogVersion"}
_ALSO = (
    "accounts.Provider",
    "marketing.Promotion",
    "marketing.PromotionCondition",
    "marketing.PromotionDiscount",
    "invoicing.TaxRule",
    "invoicing.ProviderTaxProfile",
    "services.ModuleInstance",
)


def _bump(sender: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # fixtures loading: the migration's row is replaced anyway
    if kwargs.get("action", "post_").startswith("pre_"):
        return
    cache.bump()


def connect() -> None:
    catalog = [m for m in apps.get_app_config("catalog").get_models() if m.__name__ not in _SKIP]
    for model in [*catalog, *(apps.get_model(label) for label in _ALSO)]:
        post_save.connect(_bump, sender=model, dispatch_uid=f"catalog-bump-save-{model.__name__}")
        post_delete.connect(_bump, sender=model, dispatch_uid=f"catalog-bump-del-{model.__name__}")
        for field in model._meta.many_to_many:
            m2m_changed.connect(
                _bump,
                sender=field.remote_field.through,
                dispatch_uid=f"catalog-bump-m2m-{model.__name__}-{field.name}",
            )
