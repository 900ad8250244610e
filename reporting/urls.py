"""Back-office (HTMX) pages of reporting."""

from django.urls import path

from reporting import views

urlpatterns = [
    path("app/tax-reports/", views.tax_report_page, name="backoffice-tax-reports"),
    path("app/tax-reports/generate/", views.tax_report_generate_form, name="backoffice-tax-report-generate"),
    path("app/tax-reports/<oid:report_id>/row/", views.tax_report_row, name="backoffice-tax-report-row"),
]
