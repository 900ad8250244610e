from django.urls import path

from wallets import views

urlpatterns = [
    path("app/wallets/", views.wallet_page, name="backoffice-wallets"),
    path("app/wallets/<oid:wallet_id>/balance/", views.wallet_balance_row, name="backoffice-wallet-balance"),
]
