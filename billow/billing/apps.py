from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billow.billing"
    label = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """The statement names the service, its days and what happened for every expense."""
        from billow.billing.statement import describe_service_money
        from billow.ledger.statement import register_describer

        register_describer("services.service", describe_service_money)

        # The referral program reads what referrals were charged through this seam.
        from billow.billing.referral_feed import list_charge_facts
        from billow.marketing.referrals.feed import register_charge_feed

        register_charge_feed(list_charge_facts)
