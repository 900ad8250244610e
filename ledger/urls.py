"""Back-office (HTMX) pages of the ledger."""

from django.urls import path

from ledger import views

urlpatterns = [
    path("app/ledger/trial-balance/", views.trial_balance_page, name="ledger-trial-balance"),
    path("app/ledger/review/", views.booking_review_page, name="ledger-review"),
    path("app/ledger/entries/", views.journal_entry_list_page, name="ledger-entries"),
    path("app/ledger/entries/new/", views.journal_entry_new_page, name="ledger-entry-new"),
    path("app/ledger/entries/<oid:entry_id>/", views.journal_entry_detail_page, name="ledger-entry-detail"),
    path("app/ledger/entries/<oid:entry_id>/edit/", views.journal_entry_edit_page, name="ledger-entry-edit"),
    path("app/ledger/entries/<oid:entry_id>/post/", views.journal_entry_post_action, name="ledger-entry-post"),
    path("app/ledger/entries/<oid:entry_id>/reverse/", views.journal_entry_reverse_action,
         name="ledger-entry-reverse"),
    path("app/ledger/entries/<oid:entry_id>/delete/", views.journal_entry_delete_action, name="ledger-entry-delete"),
    path("app/ledger/transactions/<oid:transaction_id>/books/", views.transaction_books_panel,
         name="ledger-transaction-books"),
    path("app/ledger/entries/<oid:entry_id>/attachments/", views.journal_attachment_add_action,
         name="ledger-entry-attach"),
    path("app/ledger/attachments/<oid:attachment_id>/", views.journal_attachment_download,
         name="ledger-attachment-download"),
    path("app/ledger/attachments/<oid:attachment_id>/delete/", views.journal_attachment_delete_action,
         name="ledger-attachment-delete"),
]
