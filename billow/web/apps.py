from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "billow.web"
    label = "web"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every app's admin module is registered by now (the admin autodiscovers first).
        from django.contrib import admin

        from billow.web.admin_journal import install_config_journal

        install_config_journal(admin.site)
