from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "billow.services"
    label = "services"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the built-in processing modules.
        from billow.services.modules import (  # noqa: F401
            ceph_rgw,
            dcimanager6,
            dummy,
            libvirt,
            manual,
            vmmanager6,
        )
