from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "billow.services"
    label = "services"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the built-in processing modules.
        from billow.services.modules import ceph_rgw, dummy, libvirt, manual  # noqa: F401
