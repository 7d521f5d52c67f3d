from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "billow.invoicing"
    label = "invoicing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The notifications outbox builds the PDFs of document emails through this registry
        # when it sends them; it may not import this app.
        from billow.invoicing.delivery import register_attachments

        register_attachments()
