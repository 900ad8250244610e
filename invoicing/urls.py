"""Back-office (HTMX) pages and the public payment page of invoicing."""

from django.urls import path

from invoicing import views

urlpatterns = [
    path("pay/<str:token>/", views.pay_page, name="invoice-pay"),
    path("pay/<str:token>/status/", views.pay_status, name="invoice-pay-status"),
]
