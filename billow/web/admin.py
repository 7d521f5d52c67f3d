"""Staff admin customisations: the dashboard on the admin index (see admin_dashboard)."""

from django.contrib import admin

admin.site.index_template = "web/admin/index.html"
