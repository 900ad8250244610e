from django.urls import path

from reporting.dashboard import views

urlpatterns = [
    path("app/dashboard/", views.dashboard_page, name="backoffice-dashboard"),
]
