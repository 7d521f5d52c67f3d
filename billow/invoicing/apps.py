from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "billow.invoicing"
    label = "invoicing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Top-ups get their invoices from the payments hooks (see ``invoicing.topups``)."""
        from billow.invoicing.topups import on_payment_event
        from billow.payments import hooks

        hooks.on_balance_credited(on_payment_event)
        hooks.on_payment_opened(on_payment_event)
        hooks.on_payment_failed(on_payment_event)
