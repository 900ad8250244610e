"""Back-office pages of audits (/app/audits/) and crypto news (/app/news/)."""

from django.urls import path

from ai_audit.audits import views
from ai_audit.news import views as news_views

urlpatterns = [
    path("app/audits/", views.audit_list_page, name="audit-list"),
    path("app/audits/upload/", views.audit_upload_action, name="audit-upload"),
    path("app/audits/compare/", views.audit_compare_page, name="audit-compare"),
    path("app/audits/<oid:audit_id>/", views.audit_detail_page, name="audit-detail"),
    path("app/audits/<oid:audit_id>/pdf/", views.audit_pdf_download, name="audit-pdf"),
    path("app/news/", news_views.news_page, name="news-list"),
    path("app/news/feeds/", news_views.news_feed_add_action, name="news-feed-add"),
    path("app/news/feeds/<oid:feed_id>/delete/", news_views.news_feed_delete_action, name="news-feed-delete"),
    path("app/news/refresh/", news_views.news_refresh_action, name="news-refresh"),
]
