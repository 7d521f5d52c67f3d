from django.urls import path
from django.views.i18n import set_language

from billow.web.views import billing, dashboard, payers, profile, services, users

app_name = "web"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("services/", services.service_list, name="service_list"),
    path("services/<int:pk>/", services.service_detail, name="service_detail"),
    path("services/<int:pk>/renew/", services.service_renew, name="service_renew"),
    path("services/<int:pk>/auto-renew/", services.service_auto_renew, name="service_auto_renew"),
    path("services/<int:pk>/delete/", services.service_delete, name="service_delete"),
    path("services/<int:pk>/preview/", services.service_preview, name="service_preview"),
    path("services/<int:pk>/tariff/", services.service_change_tariff, name="service_tariff"),
    path("services/<int:pk>/addons/", services.service_change_addons, name="service_addons"),
    path("services/<int:pk>/vm/action/", services.service_vm_action, name="service_vm_action"),
    path(
        "services/<int:pk>/vm/password/", services.service_vm_password, name="service_vm_password"
    ),
    path("services/<int:pk>/vm/note/", services.service_vm_note, name="service_vm_note"),
    path("billing/", billing.statement, name="statement"),
    path("billing/statement.csv", billing.statement_csv, name="statement_csv"),
    path("payers/", payers.payer_list, name="payer_list"),
    path("payers/new/", payers.payer_create, name="payer_create"),
    path("payers/<int:pk>/", payers.payer_edit, name="payer_edit"),
    path("users/", users.user_list, name="user_list"),
    path("users/invite/", users.user_invite, name="user_invite"),
    path("users/<int:pk>/", users.user_edit, name="user_edit"),
    path("users/<int:pk>/remove/", users.user_remove, name="user_remove"),
    path("profile/", profile.profile, name="profile"),
    path("i18n/setlang/", set_language, name="set_language"),
]
