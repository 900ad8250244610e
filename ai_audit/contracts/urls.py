"""Back-office pages of the contract registry (/app/contracts/)."""

from django.urls import path

from ai_audit.contracts import views

urlpatterns = [
    path("app/contracts/", views.contract_list_page, name="contract-list"),
    path("app/contracts/register/", views.contract_register_action, name="contract-register"),
    path("app/contracts/<oid:contract_id>/", views.contract_detail_page, name="contract-detail"),
    path("app/contracts/<oid:contract_id>/verify/", views.contract_verify_action, name="contract-verify"),
    path("app/contracts/<oid:contract_id>/call/", views.contract_call_action, name="contract-call"),
]
