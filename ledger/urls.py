"""Back-office (HTMX) pages of the ledger."""

from django.urls import path

from ledger import views

urlpatterns = [
    path("app/ledger/trial-balance/", views.trial_balance_page, name="ledger-trial-balance"),
    path("app/ledger/review/", views.booking_review_page, name="ledger-review"),
]
