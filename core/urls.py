from django.urls import path
from django.views.generic import RedirectView

from core import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="backoffice-home", permanent=False)),
    path("app/", views.live_operations, name="backoffice-home"),
    path("app/task-runs/", views.task_runs_fragment, name="backoffice-task-runs"),
    path("app/task-runs/start/", views.task_run_start, name="backoffice-task-run-start"),
    path("app/system/", views.system_page, name="backoffice-system"),
    path("app/system/automation/", views.system_automation, name="backoffice-system-automation"),
    path("app/system/run/", views.system_run_job, name="backoffice-system-run"),
    path("app/system/clear-cache/", views.system_clear_cache, name="backoffice-system-clear-cache"),
]
