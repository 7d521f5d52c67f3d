from django.urls import path
from django.views.i18n import set_language

from billow.web import impersonation
from billow.web.views import billing, dashboard, payers, profile, services, usage, users
from billow.web.views import bonus as bonus
from billow.web.views import money as money
from billow.web.views import referrals as referrals
from billow.web.views import s3 as s3
from billow.web.views import services_vm as services_vm
from billow.web.views import shop as shop
from billow.web.views import support as support

app_name = "web"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("services/", services.service_list, name="service_list"),
    path("services/<int:pk>/", services.service_detail, name="service_detail"),
    path("services/<int:pk>/renew/", services.service_renew, name="service_renew"),
    path(
        "services/<int:pk>/credentials/",
        services.service_credentials,
        name="service_credentials",
    ),
    path("services/<int:pk>/auto-renew/", services.service_auto_renew, name="service_auto_renew"),
    path("services/<int:pk>/delete/", services.service_delete, name="service_delete"),
    path("services/<int:pk>/suspend/", services.service_suspend, name="service_suspend"),
    path("services/<int:pk>/resume/", services.service_resume, name="service_resume"),
    path("services/<int:pk>/preview/", services.service_preview, name="service_preview"),
    path("services/<int:pk>/tariff/", services.service_change_tariff, name="service_tariff"),
    path("services/<int:pk>/addons/", services.service_change_addons, name="service_addons"),
    path("services/<int:pk>/vm/action/", services.service_vm_action, name="service_vm_action"),
    path(
        "services/<int:pk>/vm/password/", services.service_vm_password, name="service_vm_password"
    ),
    path("services/<int:pk>/vm/note/", services.service_vm_note, name="service_vm_note"),
    path("services/<int:pk>/vm/state/", services_vm.service_vm_state, name="service_vm_state"),
    path("services/<int:pk>/console/", services_vm.service_console, name="service_console"),
    path(
        "services/<int:pk>/vm/reinstall/",
        services_vm.service_vm_reinstall,
        name="service_vm_reinstall",
    ),
    path("services/<int:pk>/usage/", usage.service_usage, name="service_usage"),
    # S3 storage (issue 15): buckets and access keys on the client's own RGW user
    path("services/<int:pk>/s3/buckets/", s3.bucket_create, name="s3_bucket_create"),
    path(
        "services/<int:pk>/s3/buckets/<str:name>/delete/", s3.bucket_delete, name="s3_bucket_delete"
    ),
    path(
        "services/<int:pk>/s3/buckets/<str:name>/access/", s3.bucket_access, name="s3_bucket_access"
    ),
    path(
        "services/<int:pk>/s3/buckets/<str:name>/website/",
        s3.bucket_website,
        name="s3_bucket_website",
    ),
    path("services/<int:pk>/s3/keys/", s3.key_create, name="s3_key_create"),
    path("services/<int:pk>/s3/keys/<str:access_key>/revoke/", s3.key_revoke, name="s3_key_revoke"),
    path("services/<int:pk>/usage.csv", usage.service_usage_csv, name="service_usage_csv"),
    path("statistics/", usage.statistics, name="statistics"),
    path("billing/", billing.statement, name="statement"),
    path("billing/promised-payment/", dashboard.promised_payment, name="promised_payment"),
    path("billing/statement.csv", billing.statement_csv, name="statement_csv"),
    # money pages (web/views/money.py)
    path("billing/top-up/", money.top_up, name="top_up"),
    path("billing/top-up/preview/", money.top_up_preview, name="top_up_preview"),
    path("billing/top-up/saved/<int:pk>/", money.top_up_saved, name="top_up_saved"),
    path("billing/payments/", money.payment_list, name="payment_list"),
    path("billing/payments/<int:pk>/", money.payment_detail, name="payment_detail"),
    path("billing/invoices/", money.invoice_list, name="invoice_list"),
    path("billing/invoices/<int:pk>/", money.invoice_detail, name="invoice_detail"),
    path("billing/invoices/<int:pk>/pdf/", money.invoice_pdf, name="invoice_pdf"),
    path("billing/credit-notes/<int:pk>/pdf/", money.credit_note_pdf, name="credit_note_pdf"),
    path("billing/methods/", money.saved_methods, name="saved_methods"),
    path(
        "billing/methods/<int:pk>/default/", money.saved_method_default, name="saved_method_default"
    ),
    path(
        "billing/methods/<int:pk>/auto-payment/", money.saved_method_auto, name="saved_method_auto"
    ),
    path("billing/methods/<int:pk>/remove/", money.saved_method_remove, name="saved_method_remove"),
    # bonus program (web/views/bonus.py)
    path("billing/bonus/", bonus.bonus_account, name="bonus_account"),
    path("billing/bonus/consent/", bonus.bonus_consent, name="bonus_consent"),
    path("payers/", payers.payer_list, name="payer_list"),
    path("payers/new/", payers.payer_create, name="payer_create"),
    path("payers/<int:pk>/", payers.payer_edit, name="payer_edit"),
    path("users/", users.user_list, name="user_list"),
    path("users/invite/", users.user_invite, name="user_invite"),
    path("users/<int:pk>/", users.user_edit, name="user_edit"),
    path("users/<int:pk>/remove/", users.user_remove, name="user_remove"),
    path("profile/", profile.profile, name="profile"),
    # ordering (web/views/shop.py)
    path("order/", shop.catalog, name="shop"),
    path("order/<int:tariff_id>/", shop.configure, name="shop_configure"),
    path("order/<int:tariff_id>/preview/", shop.configure_preview, name="shop_preview"),
    path("cart/", shop.cart, name="cart"),
    path("cart/<int:item_id>/remove/", shop.cart_remove, name="cart_remove"),
    path("checkout/", shop.checkout, name="checkout"),
    path("checkout/quote/", shop.checkout_quote, name="checkout_quote"),
    path("checkout/pay/", shop.checkout_pay, name="checkout_pay"),
    path("orders/", shop.order_list, name="order_list"),
    path("orders/<int:pk>/", shop.order_detail, name="order_detail"),
    path("orders/<int:pk>/cancel/", shop.order_cancel, name="order_cancel"),
    path("orders/<int:pk>/pay/", shop.order_pay, name="order_pay"),
    path("services/<int:pk>/configure/", shop.service_configure, name="service_configure"),
    # referral program (web/views/referrals.py)
    path("referrals/", referrals.partner_page, name="referrals"),
    path("referrals/join/", referrals.partner_join, name="referrals_join"),
    path("referrals/click/", referrals.register_click_view, name="referrals_click"),
    # support tickets (web/views/support.py)
    path("support/", support.ticket_list, name="ticket_list"),
    path("support/new/", support.ticket_new, name="ticket_new"),
    path("support/<int:pk>/", support.ticket_detail, name="ticket_detail"),
    path("support/<int:pk>/close/", support.ticket_close, name="ticket_close"),
    path("support/<int:pk>/reopen/", support.ticket_reopen, name="ticket_reopen"),
    path("support/<int:pk>/rate/", support.ticket_rate, name="ticket_rate"),
    path("support/files/<int:pk>/", support.ticket_attachment, name="ticket_attachment"),
    path("i18n/setlang/", set_language, name="set_language"),
    # staff logged in as a client: the banner's "leave" (web/impersonation.py)
    path("staff/leave-client/", impersonation.leave, name="impersonation_leave"),
]
