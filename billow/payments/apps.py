from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "billow.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Offer auto-payment to the billing run (billing never imports payments: the run
        calls what is registered in ``billing.autopay``); describe payments and refunds on the
        client's statement; keep top-up invoices in line with their payments
        (``payments.topup_invoices``)."""
        from billow.billing.autopay import register_auto_payer
        from billow.ledger.statement import register_describer
        from billow.payments import hooks
        from billow.payments.autopay import saved_method_auto_payer
        from billow.payments.bonus import accrue_topup_bonus
        from billow.payments.statement import describe_payments, describe_refunds
        from billow.payments.topup_invoices import on_payment_event

        register_auto_payer(saved_method_auto_payer)
        register_describer("payments.payment", describe_payments)
        register_describer("payments.refund", describe_refunds)
        hooks.on_balance_credited(on_payment_event)
        hooks.on_balance_credited(accrue_topup_bonus)  # bonus points for a top-up (issue 16)
        hooks.on_payment_opened(on_payment_event)
        hooks.on_payment_failed(on_payment_event)
