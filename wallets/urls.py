from django.urls import path

from wallets import transaction_views, views, wallet_views

urlpatterns = [
    path("app/transactions/", transaction_views.transaction_list_page, name="backoffice-transactions"),
    path("app/transactions/label/", transaction_views.transaction_bulk_label, name="backoffice-transactions-bulk-label"),
    path("app/transactions/import/", transaction_views.transaction_import, name="backoffice-transactions-import"),
    path("app/transactions/export/", transaction_views.transaction_export, name="backoffice-transactions-export"),
    path("app/transactions/<oid:transaction_id>/", transaction_views.transaction_drawer,
         name="backoffice-transaction-drawer"),
    path("app/transactions/<oid:transaction_id>/label/", transaction_views.transaction_label_edit,
         name="backoffice-transaction-label"),
    path("app/wallets/", views.wallet_page, name="backoffice-wallets"),
    path("app/wallets/<oid:wallet_id>/balance/", views.wallet_balance_row, name="backoffice-wallet-balance"),
    path("app/wallets/new/", wallet_views.wallet_create_page, name="backoffice-wallet-new"),
    path("app/wallets/<oid:wallet_id>/", wallet_views.wallet_detail_page, name="backoffice-wallet-detail"),
    path("app/wallets/<oid:wallet_id>/row/", wallet_views.wallet_row, name="backoffice-wallet-row"),
    path("app/wallets/<oid:wallet_id>/balances/", wallet_views.wallet_balances, name="backoffice-wallet-balances"),
    path("app/wallets/<oid:wallet_id>/activity/", wallet_views.wallet_activity, name="backoffice-wallet-activity"),
    path("app/wallets/<oid:wallet_id>/receive/", wallet_views.wallet_receive, name="backoffice-wallet-receive"),
    path("app/wallets/<oid:wallet_id>/gas/", wallet_views.wallet_gas, name="backoffice-wallet-gas"),
    path("app/wallets/<oid:wallet_id>/send/", wallet_views.wallet_send, name="backoffice-wallet-send"),
    path("app/wallets/<oid:wallet_id>/ownership/", wallet_views.wallet_ownership, name="backoffice-wallet-ownership"),
    path("app/wallets/transfers/<oid:transfer_id>/", wallet_views.transfer_row, name="backoffice-transfer-row"),
    path("app/wallets/transfers/<oid:transfer_id>/fee-bump/", wallet_views.transfer_fee_bump,
         name="backoffice-transfer-fee-bump"),
]
