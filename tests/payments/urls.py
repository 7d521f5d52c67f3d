"""A test-only urlconf: the payments pages at /pay/ (``@pytest.mark.urls``)."""

from django.urls import include, path

urlpatterns = [path("pay/", include("billow.payments.urls"))]
