from django.apps import AppConfig


class MarketingConfig(AppConfig):
    name = "billow.marketing"
    label = "marketing"
    default_auto_field = "django.db.models.BigAutoField"
