"""Back-office (HTMX) pages of reporting."""

from django.urls import path

from reporting import portfolio_views, views

urlpatterns = [
    path("app/tax-reports/", views.tax_report_page, name="backoffice-tax-reports"),
    path("app/tax-reports/generate/", views.tax_report_generate_form, name="backoffice-tax-report-generate"),
    path("app/tax-reports/<oid:report_id>/row/", views.tax_report_row, name="backoffice-tax-report-row"),
    path("app/reports/balance-sheet/", views.statement_page, {"slug": "balance-sheet"},
         name="backoffice-balance-sheet"),
    path("app/reports/income-statement/", views.statement_page, {"slug": "income-statement"},
         name="backoffice-income-statement"),
    path("app/reports/cash-flow/", views.statement_page, {"slug": "cash-flow"}, name="backoffice-cash-flow"),
    path("app/reports/<slug:slug>/save/", views.statement_save, name="backoffice-statement-save"),
    path("app/portfolio/", portfolio_views.portfolio_page, name="backoffice-portfolio"),
    path("app/portfolio/value-chart/", portfolio_views.portfolio_value_chart, name="backoffice-portfolio-value-chart"),
]
