"""Mounted by ``config/urls.py`` as ``path("pay/", include("billow.payments.urls"))``."""

from django.urls import path

from billow.payments import views

app_name = "payments"

urlpatterns = [
    path("sandbox/<int:payment_id>/<str:token>/", views.sandbox_page, name="sandbox_page"),
    path("sandbox/<int:payment_id>/<str:token>/done/", views.sandbox_done, name="sandbox_done"),
    path("webhook/<slug:gateway>/", views.webhook, name="webhook"),
    path("webhook/<slug:gateway>/<int:method_id>/", views.webhook, name="webhook_method"),
]
