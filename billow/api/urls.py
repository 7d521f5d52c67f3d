"""``/api/``: the OpenAPI schema, Swagger UI docs and REST API v1.

Client-scoped routes name their ids after the object (``service_id``, ``payer_id`` ...); the
authorization test in ``tests/api`` walks these patterns and fills them with another client's ids.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from billow.api.views import (
    bonus,
    client,
    commerce,
    credit,
    referrals,
    s3,
    staff,
    staff_commerce,
    staff_config,
    staff_discovery,
    staff_ops,
    support,
    tokens,
    usage,
    usage_ingest,
)
from billow.api.views.docs import SwaggerView, not_found

v1_client = [
    # staff or a module instance's ingest token (the view says who may send)
    path("usage/records", usage_ingest.UsageRecordsView.as_view(), name="usage-records"),
    path("me/", client.MeView.as_view(), name="me"),
    path("balances/", client.BalanceListView.as_view(), name="balances"),
    path("statement/", client.StatementView.as_view(), name="statement"),
    path("credit/", credit.CreditView.as_view(), name="credit"),
    path("promised-payment/", credit.PromisedPaymentView.as_view(), name="promised-payment"),
    path("services/", client.ServiceListView.as_view(), name="services"),
    path("services/<int:service_id>/", client.ServiceDetailView.as_view(), name="service"),
    path(
        "services/<int:service_id>/events/",
        client.ServiceEventsView.as_view(),
        name="service-events",
    ),
    path("services/<int:service_id>/renew/", client.RenewView.as_view(), name="service-renew"),
    path(
        "services/<int:service_id>/auto-renew/",
        client.AutoRenewView.as_view(),
        name="service-auto-renew",
    ),
    path(
        "services/<int:service_id>/delete/",
        client.DeleteServiceView.as_view(),
        name="service-delete",
    ),
    path(
        "services/<int:service_id>/suspend/",
        client.SuspendServiceView.as_view(),
        name="service-suspend",
    ),
    path(
        "services/<int:service_id>/resume/",
        client.ResumeServiceView.as_view(),
        name="service-resume",
    ),
    path(
        "services/<int:service_id>/change-tariff/",
        client.ChangeTariffView.as_view(),
        name="service-change-tariff",
    ),
    path(
        "services/<int:service_id>/change-addons/",
        client.ChangeAddonsView.as_view(),
        name="service-change-addons",
    ),
    path(
        "services/<int:service_id>/preview/", client.PreviewView.as_view(), name="service-preview"
    ),
    path(
        "services/<int:service_id>/usage/", usage.ServiceUsageView.as_view(), name="service-usage"
    ),
    path(
        "services/<int:service_id>/usage/daily/",
        usage.ServiceUsageSeriesView.as_view(),
        name="service-usage-daily",
    ),
    # S3 storage (issue 15)
    path("services/<int:service_id>/s3/", s3.S3StorageView.as_view(), name="service-s3"),
    path(
        "services/<int:service_id>/s3/buckets/",
        s3.S3BucketCreateView.as_view(),
        name="service-s3-buckets",
    ),
    path(
        "services/<int:service_id>/s3/buckets/<str:name>/delete/",
        s3.S3BucketDeleteView.as_view(),
        name="service-s3-bucket-delete",
    ),
    path(
        "services/<int:service_id>/s3/buckets/<str:name>/access/",
        s3.S3BucketAccessView.as_view(),
        name="service-s3-bucket-access",
    ),
    path(
        "services/<int:service_id>/s3/buckets/<str:name>/website/",
        s3.S3BucketWebsiteView.as_view(),
        name="service-s3-bucket-website",
    ),
    path(
        "services/<int:service_id>/s3/keys/", s3.S3KeyCreateView.as_view(), name="service-s3-keys"
    ),
    path(
        "services/<int:service_id>/s3/keys/<str:access_key>/revoke/",
        s3.S3KeyRevokeView.as_view(),
        name="service-s3-key-revoke",
    ),
    path("services/<int:service_id>/vm/", client.VmView.as_view(), name="service-vm"),
    path(
        "services/<int:service_id>/vm/actions/",
        client.VmActionView.as_view(),
        name="service-vm-actions",
    ),
    path(
        "services/<int:service_id>/vm/password/",
        client.VmPasswordView.as_view(),
        name="service-vm-password",
    ),
    path("services/<int:service_id>/vm/note/", client.VmNoteView.as_view(), name="service-vm-note"),
    path("payers/", client.PayerListView.as_view(), name="payers"),
    path("payers/<int:payer_id>/", client.PayerDetailView.as_view(), name="payer"),
    path("users/", client.ClientUserListView.as_view(), name="users"),
    path("users/<int:client_user_id>/", client.ClientUserDetailView.as_view(), name="user"),
    path("notifications/", client.NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/<int:notification_id>/read/",
        client.NotificationReadView.as_view(),
        name="notification-read",
    ),
    path("catalog/tariffs/", client.CatalogTariffListView.as_view(), name="catalog-tariffs"),
    path(
        "catalog/tariffs/<int:tariff_id>/",
        client.CatalogTariffDetailView.as_view(),
        name="catalog-tariff",
    ),
    # bonus program (views/bonus.py)
    path("bonus/", bonus.BonusAccountListView.as_view(), name="bonus-accounts"),
    path("bonus/consent/", bonus.BonusConsentView.as_view(), name="bonus-consent"),
    path("bonus/history/", bonus.BonusHistoryView.as_view(), name="bonus-history"),
    path("bonus/estimate/", bonus.BonusEstimateView.as_view(), name="bonus-estimate"),
    path("referrals/", referrals.PartnerView.as_view(), name="referrals"),
    path("tokens/", tokens.TokenListView.as_view(), name="tokens"),
    path("tokens/<int:token_id>/", tokens.TokenDetailView.as_view(), name="token"),
    # ordering, payments, invoices (views/commerce.py)
    path("quote/", commerce.QuoteView.as_view(), name="quote"),
    path("cart/", commerce.CartView.as_view(), name="cart"),
    path("cart/items/", commerce.CartItemListView.as_view(), name="cart-items"),
    path("cart/items/<int:cart_item_id>/", commerce.CartItemDetailView.as_view(), name="cart-item"),
    path("checkout/defaults/", commerce.CheckoutDefaultsView.as_view(), name="checkout-defaults"),
    path("orders/", commerce.OrderListView.as_view(), name="orders"),
    path("orders/<int:order_id>/", commerce.OrderDetailView.as_view(), name="order"),
    path("orders/<int:order_id>/cancel/", commerce.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<int:order_id>/pay/", commerce.OrderPayView.as_view(), name="order-pay"),
    path("payment-methods/", commerce.PaymentMethodListView.as_view(), name="payment-methods"),
    path("payments/", commerce.PaymentListView.as_view(), name="payments"),
    path("payments/<int:payment_id>/", commerce.PaymentDetailView.as_view(), name="payment"),
    path("saved-methods/", commerce.SavedMethodListView.as_view(), name="saved-methods"),
    path(
        "saved-methods/<int:saved_method_id>/",
        commerce.SavedMethodDetailView.as_view(),
        name="saved-method",
    ),
    path("invoices/", commerce.InvoiceListView.as_view(), name="invoices"),
    path("invoices/<int:invoice_id>/", commerce.InvoiceDetailView.as_view(), name="invoice"),
    path("invoices/<int:invoice_id>/pdf/", commerce.InvoicePdfView.as_view(), name="invoice-pdf"),
    path("documents/", commerce.DocumentListView.as_view(), name="documents"),
    path(
        "credit-notes/<int:credit_note_id>/",
        commerce.CreditNoteDetailView.as_view(),
        name="credit-note",
    ),
    path(
        "credit-notes/<int:credit_note_id>/pdf/",
        commerce.CreditNotePdfView.as_view(),
        name="credit-note-pdf",
    ),
    path(
        "services/<int:service_id>/configure/",
        commerce.ConfigureServiceView.as_view(),
        name="service-configure",
    ),
]

# support tickets (views/support.py)
v1_client += [
    path("support/departments/", support.DepartmentListView.as_view(), name="support-departments"),
    path("tickets/", support.TicketListView.as_view(), name="tickets"),
    path("tickets/<int:ticket_id>/", support.TicketDetailView.as_view(), name="ticket"),
    path(
        "tickets/<int:ticket_id>/messages/",
        support.TicketMessageView.as_view(),
        name="ticket-messages",
    ),
    path("tickets/<int:ticket_id>/close/", support.TicketCloseView.as_view(), name="ticket-close"),
    path(
        "tickets/<int:ticket_id>/reopen/", support.TicketReopenView.as_view(), name="ticket-reopen"
    ),
    path("tickets/<int:ticket_id>/rate/", support.TicketRateView.as_view(), name="ticket-rate"),
    path(
        "tickets/attachments/<int:attachment_id>/",
        support.AttachmentView.as_view(),
        name="ticket-attachment",
    ),
]

v1_staff = [
    path("product-types/", staff.ProductTypeListView.as_view(), name="staff-product-types"),
    path("tariffs/", staff.TariffListView.as_view(), name="staff-tariffs"),
    path("tariffs/<int:tariff_id>/", staff.TariffDetailView.as_view(), name="staff-tariff"),
    path(
        "tariffs/<int:tariff_id>/prices/",
        staff.TariffPriceView.as_view(),
        name="staff-tariff-prices",
    ),
    path(
        "tariffs/<int:tariff_id>/addons/", staff.AddonListView.as_view(), name="staff-tariff-addons"
    ),
    path("clients/", staff_ops.StaffClientsView.as_view(), name="staff-clients"),
    path("clients/<int:client_id>/", staff_ops.StaffClientView.as_view(), name="staff-client"),
    path(
        "clients/<int:client_id>/payers/",
        staff_ops.StaffPayerListView.as_view(),
        name="staff-client-payers",
    ),
    path("payers/<int:payer_id>/", staff_ops.StaffPayerDetailView.as_view(), name="staff-payer"),
    path(
        "balance-adjustments/",
        staff_ops.BalanceAdjustmentView.as_view(),
        name="staff-balance-adjustments",
    ),
    path("promotions/", staff_config.StaffPromotionListView.as_view(), name="staff-promotions"),
    path(
        "promotions/<int:promotion_id>/",
        staff_config.StaffPromotionDetailView.as_view(),
        name="staff-promotion",
    ),
    path(
        "promotions/<int:promotion_id>/codes/",
        staff_config.StaffPromoCodeListView.as_view(),
        name="staff-promotion-codes",
    ),
    path(
        "promo-codes/<int:code_id>/",
        staff_config.StaffPromoCodeDetailView.as_view(),
        name="staff-promo-code",
    ),
    path("tax-rules/", staff_config.StaffTaxRuleListView.as_view(), name="staff-tax-rules"),
    path(
        "tax-rules/<int:rule_id>/",
        staff_config.StaffTaxRuleDetailView.as_view(),
        name="staff-tax-rule",
    ),
    path(
        "payment-methods/",
        staff_config.StaffPaymentMethodListView.as_view(),
        name="staff-payment-methods",
    ),
    path(
        "payment-methods/<int:method_id>/",
        staff_config.StaffPaymentMethodDetailView.as_view(),
        name="staff-payment-method",
    ),
    path("services/", staff_ops.StaffServicesView.as_view(), name="staff-services"),
    *[
        path(f"services/<int:service_id>/{slug}/", view.as_view(), name=f"staff-service-{slug}")
        for slug, view in staff_ops.SERVICE_OPERATION_VIEWS.items()
    ],
    path(
        "services/<int:service_id>/", staff.StaffServiceDetailView.as_view(), name="staff-service"
    ),
    path(
        "services/<int:service_id>/usage/",
        usage.StaffServiceUsageView.as_view(),
        name="staff-service-usage",
    ),
    path(
        "services/<int:service_id>/usage/daily/",
        usage.StaffServiceUsageSeriesView.as_view(),
        name="staff-service-usage-daily",
    ),
    path(
        "module-instances/<int:module_instance_id>/discovery/",
        staff.DiscoveryView.as_view(),
        name="staff-module-instance-discovery",
    ),
    path(
        "module-instances/<int:module_instance_id>/discovery/adopt/",
        staff_discovery.AdoptView.as_view(),
        name="staff-discovery-adopt",
    ),
    path(
        "module-instances/<int:module_instance_id>/discovery/system/",
        staff_discovery.SystemMarkView.as_view(),
        name="staff-discovery-system",
    ),
    path(
        "module-instances/<int:module_instance_id>/discovery/system/remove/",
        staff_discovery.SystemUnmarkView.as_view(),
        name="staff-discovery-system-remove",
    ),
    path(
        "services/<int:service_id>/recreate/",
        staff_discovery.RecreateView.as_view(),
        name="staff-service-recreate",
    ),
    path("ledger/accounts/", staff.LedgerAccountListView.as_view(), name="staff-ledger-accounts"),
    path(
        "ledger/transactions/",
        staff.LedgerTransactionListView.as_view(),
        name="staff-ledger-transactions",
    ),
    # bonus program (views/bonus.py)
    path("bonus/programs/", bonus.StaffProgramListView.as_view(), name="staff-bonus-programs"),
    path(
        "bonus/programs/<int:program_id>/enable/",
        bonus.StaffProgramEnableView.as_view(),
        name="staff-bonus-program-enable",
    ),
    path(
        "bonus/programs/<int:program_id>/rules/",
        bonus.StaffRuleListView.as_view(),
        name="staff-bonus-rules",
    ),
    path("bonus/accounts/", bonus.StaffAccountListView.as_view(), name="staff-bonus-accounts"),
    path(
        "bonus/accounts/<int:bonus_account_id>/history/",
        bonus.StaffAccountHistoryView.as_view(),
        name="staff-bonus-account-history",
    ),
    path(
        "bonus/accounts/<int:bonus_account_id>/adjust/",
        bonus.StaffAccountAdjustView.as_view(),
        name="staff-bonus-account-adjust",
    ),
    # referral program (views/referrals.py)
    path(
        "referral-programs/",
        referrals.StaffProgramListView.as_view(),
        name="staff-referral-programs",
    ),
    path("referral-rules/", referrals.StaffRuleView.as_view(), name="staff-referral-rules"),
    path("referrals/", referrals.StaffReferralListView.as_view(), name="staff-referrals"),
    path("referrals/link/", referrals.StaffLinkView.as_view(), name="staff-referrals-link"),
    path("referrals/unlink/", referrals.StaffUnlinkView.as_view(), name="staff-referrals-unlink"),
    path(
        "referral-rewards/", referrals.StaffRewardListView.as_view(), name="staff-referral-rewards"
    ),
    path(
        "referral-payouts/", referrals.StaffPayoutListView.as_view(), name="staff-referral-payouts"
    ),
    path(
        "referral-payouts/confirm/",
        referrals.StaffPayoutConfirmView.as_view(),
        name="staff-referral-payouts-confirm",
    ),
    path(
        "referral-payouts/reject/",
        referrals.StaffPayoutRejectView.as_view(),
        name="staff-referral-payouts-reject",
    ),
    path("orders/", staff_commerce.StaffOrderListView.as_view(), name="staff-orders"),
    path("payments/", staff_commerce.StaffPaymentListView.as_view(), name="staff-payments"),
    path(
        "payments/<int:payment_id>/mark-paid/",
        staff_commerce.MarkPaidView.as_view(),
        name="staff-payment-mark-paid",
    ),
    path(
        "payments/<int:payment_id>/refund/",
        staff_commerce.RefundView.as_view(),
        name="staff-payment-refund",
    ),
]

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(), name="docs"),
    path("v1/", include(v1_client)),
    path("v1/staff/", include(v1_staff)),
    re_path(r"^[\s\S]*$", not_found, name="not-found"),  # JSON 404 for every unknown /api/ path
]
