from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "billow.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"
