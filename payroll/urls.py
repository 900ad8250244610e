"""Back-office (HTMX) pages of payroll."""

from django.urls import path

from payroll import views

urlpatterns = [
    path("app/payroll/", views.periods_page, name="payroll-periods"),
    path("app/payroll/periods/<oid:period_id>/", views.period_page, name="payroll-period"),
    path("app/payroll/periods/<oid:period_id>/process/", views.period_process, name="payroll-period-process"),
    path("app/payroll/payslips/<oid:payslip_id>/edit/", views.payslip_edit, name="payroll-payslip-edit"),
    path("app/payroll/payslips/<oid:payslip_id>/approve/", views.payslip_approve, name="payroll-payslip-approve"),
    path("app/payroll/my-payslips/", views.my_payslips_page, name="payroll-my-payslips"),
]
