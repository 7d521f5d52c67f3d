from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "billow.inventory"
    label = "inventory"
    verbose_name = _("Inventory")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from billow.inventory.dedicated import claim_task
        from billow.services.actions import register_task_owner

        register_task_owner(claim_task)
