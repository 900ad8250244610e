from django.contrib import admin
from django.urls import include, path

from config.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("core.urls")),
    path("", include("accounts.urls")),
    path("", include("accounts.notification_urls")),
    path("", include("wallets.urls")),
    path("", include("ledger.urls")),
    path("", include("reporting.urls")),
    path("", include("reporting.dashboard.urls")),
    path("", include("invoicing.urls")),
    path("", include("payroll.urls")),
    path("", include("ai_audit.contracts.urls")),
    path("", include("ai_audit.audits.urls")),
    path("", include("ai_audit.classification.urls")),
]
