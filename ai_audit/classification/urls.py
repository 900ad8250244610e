"""Back-office pages of classification: the drawer panel of /app/transactions/ and the review queue."""

from django.urls import path

from ai_audit.classification import views

urlpatterns = [
    path("app/transactions/<oid:transaction_id>/classification/", views.classification_panel,
         name="classification-panel"),
    path("app/transactions/<oid:transaction_id>/classify/", views.classification_classify,
         name="classification-classify"),
    path("app/classifications/review/", views.review_queue_page, name="classification-review"),
    path("app/classifications/<oid:record_id>/accept/", views.classification_accept, name="classification-accept"),
    path("app/classifications/<oid:record_id>/reject/", views.classification_reject, name="classification-reject"),
]
