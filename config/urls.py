from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from billow.ops.health import healthz, readyz
from billow.ops.metrics import metrics_view

# The admin logs in through allauth (rate limits, MFA); must be set before admin.site.urls.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", include("billow.api.urls")),
    path("pay/", include("billow.payments.urls")),
    path("", include("billow.web.urls")),
]
