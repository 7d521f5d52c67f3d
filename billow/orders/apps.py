from django.apps import AppConfig


def _settle(*, client_id: int, currency: str, payment_id: int) -> None:
    from billow.orders.actions import settle_open_orders

    settle_open_orders(client_id=client_id, currency=currency)


def _release(*, client_id: int, currency: str, payment_id: int, reference: str) -> None:
    from billow.orders.actions import release_order_promos_on_failure

    release_order_promos_on_failure(reference=reference)


class OrdersConfig(AppConfig):
    name = "billow.orders"
    label = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Settle waiting orders when a payment credits the balance; release promo-code
        reservations when a payment fails (payments never imports orders: it fires hooks);
        describe an order's tax on the client's statement."""
        from billow.ledger.statement import register_describer
        from billow.orders.statement import describe_order_tax
        from billow.payments.hooks import on_balance_credited, on_payment_failed

        on_balance_credited(_settle)
        on_payment_failed(_release)
        register_describer("order", describe_order_tax)
