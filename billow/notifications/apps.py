from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "billow.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The services app announces what staff must act on; it may not import this app.
        from billow.notifications.receivers import connect

        connect()
