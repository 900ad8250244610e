"""Back-office (HTMX) pages and the public payment page of invoicing."""

from django.urls import path

from invoicing import views

urlpatterns = [
    path("pay/<str:token>/", views.pay_page, name="invoice-pay"),
    path("pay/<str:token>/status/", views.pay_status, name="invoice-pay-status"),
    path("app/invoices/", views.invoice_list_page, name="invoice-list"),
    path("app/invoices/new/", views.invoice_new_page, name="invoice-new"),
    path("app/invoices/totals/", views.invoice_totals_preview, name="invoice-totals"),
    path("app/invoices/<oid:invoice_id>/", views.invoice_detail_page, name="invoice-detail"),
    path("app/invoices/<oid:invoice_id>/edit/", views.invoice_edit_page, name="invoice-edit"),
    path("app/invoices/<oid:invoice_id>/pdf/", views.invoice_pdf_page, name="invoice-pdf"),
    path("app/invoices/<oid:invoice_id>/issue/", views.invoice_issue_action, name="invoice-issue"),
    path("app/invoices/<oid:invoice_id>/send/", views.invoice_send_action, name="invoice-send"),
    path("app/invoices/<oid:invoice_id>/cancel/", views.invoice_cancel_action, name="invoice-cancel"),
    path("app/invoices/<oid:invoice_id>/credit-note/", views.invoice_credit_note_action, name="invoice-credit-note"),
    path("app/invoices/<oid:invoice_id>/requote/", views.invoice_requote_action, name="invoice-requote"),
    path("app/invoices/<oid:invoice_id>/payment/", views.invoice_payment_action, name="invoice-payment"),
    path("app/invoices/<oid:invoice_id>/delete/", views.invoice_delete_action, name="invoice-delete"),
    path("app/invoices/<oid:invoice_id>/unapplied/<oid:unapplied_id>/apply/", views.unapplied_apply_action,
         name="invoice-unapplied-apply"),
    path("app/invoices/<oid:invoice_id>/unapplied/<oid:unapplied_id>/dismiss/", views.unapplied_dismiss_action,
         name="invoice-unapplied-dismiss"),
]
