"""The HTMX back-office: login, the live-operations page, its fragment and the start action, scoped
to the organization's staff (installation-wide runs and counts for platform superusers)."""

import re

import pytest
from django.test import Client

from accounts.models import User
from core.models import TaskRun, TaskStatus

pytestmark = pytest.mark.django_db


def test_pages_need_login(client):
    response = client.get("/app/")
    assert response.status_code == 302 and response["Location"].startswith("/app/login/")
    assert client.get("/app/task-runs/").status_code == 302


def test_login_page_logs_a_manager_in(client, make_user):
    make_user(role="MANAGER", username="maya")
    page = client.get("/app/login/")
    assert page.status_code == 200 and b'name="csrfmiddlewaretoken"' in page.content
    response = client.post("/app/login/", {"username": "maya", "password": "Passw0rd!long"})
    assert response.status_code == 302 and response["Location"] == "/app/"
    assert client.get("/app/").status_code == 200


def test_wrong_password_shows_an_error(client, make_user):
    make_user(role="MANAGER", username="maya")
    response = client.post("/app/login/", {"username": "maya", "password": "wrong"})
    assert response.status_code == 200 and b'role="alert"' in response.content and b"password didn" in response.content


def test_non_staff_see_their_account_page_not_operations(client, make_user):
    client.force_login(make_user(role="USER", manager=make_user(role="MANAGER")))
    response = client.get("/app/")
    assert response.status_code == 200 and b'data-status="pending"' in response.content
    assert b"start-collection-stats" not in response.content
    assert client.get("/app/task-runs/").status_code == 403
    assert client.post("/app/task-runs/start/").status_code == 403


def test_page_wires_htmx_csrf_and_live_area(client, make_user):
    client.force_login(make_user(role="MANAGER"))
    html = client.get("/app/").content.decode()
    assert "htmx" in html and 'hx-headers=\'{"X-CSRFToken": "' in html
    assert 'id="live-area"' in html and 'data-ws-path="/ws/live/"' in html
    assert "backoffice/live.js" in html
    assert "<script>" not in html  # no inline script: the page must work under a strict CSP


def test_fragment_lists_recent_runs(client, make_user, organization):
    client.force_login(make_user(role="MANAGER"))
    TaskRun.objects.create(name="nightly_report", status=TaskStatus.RUNNING, progress=30, organization=organization)
    response = client.get("/app/task-runs/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<table class="bo-table" id="task-runs-table"')
    assert "nightly_report" in html and 'value="30"' in html and 'data-status="RUNNING"' in html


def test_start_needs_post_and_csrf(make_user):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(make_user(role="MANAGER"))
    assert csrf_client.get("/app/task-runs/start/").status_code == 405
    assert csrf_client.post("/app/task-runs/start/").status_code == 403
    assert not TaskRun.objects.exists()


def test_start_runs_the_task_and_returns_the_fragment(client, make_user):
    user = make_user(role="MANAGER")
    client.force_login(user)
    response = client.post("/app/task-runs/start/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    run = TaskRun.objects.get()
    assert run.name == "collection_stats" and run.status == TaskStatus.SUCCEEDED and run.triggered_by_id == user.pk
    assert run.organization_id == user.organization_id and run.result["organization_id"] == str(user.organization_id)
    assert f'data-task-run-id="{run.pk}"' in response.content.decode()


def test_logout_is_post_only(client, make_user):
    client.force_login(make_user(role="MANAGER"))
    assert client.get("/app/logout/").status_code == 405
    assert client.post("/app/logout/").status_code == 302
    assert client.get("/app/").status_code == 302


def test_static_files_are_served(client):
    assert client.get("/static/backoffice/live.js").status_code == 200
    assert client.get("/static/unfold/css/styles.css").status_code == 200


def test_task_runs_refresh_on_live_events_in_a_stable_container(client, make_user):
    client.force_login(make_user(role="MANAGER"))
    html = client.get("/app/").content.decode()
    container = re.search(r'<div id="task-runs"([^>]*)>', html).group(1)
    # The container survives refreshes (innerHTML), so events during a refresh queue one more.
    assert 'hx-get="/app/task-runs/"' in container and 'hx-swap="innerHTML"' in container
    assert 'hx-trigger="live:task_run.updated from:body, live:reconnected from:body"' in container
    button = re.search(r'<button[^>]*id="start-collection-stats"([^>]*)>', html).group(1)
    assert 'hx-post="/app/task-runs/start/"' in button and 'hx-target="#task-runs"' in button


def test_fragment_shows_the_last_log_line(client, make_user, organization):
    from core import services

    client.force_login(make_user(role="MANAGER"))
    run = services.task_run_create(name="probe", organization_id=organization.pk)
    services.task_run_log(task_run_id=run.pk, message="first line")
    services.task_run_log(task_run_id=run.pk, message="newest line")
    html = client.get("/app/task-runs/").content.decode()
    assert "newest line" in html and "first line" not in html
    assert client.post("/app/task-runs/").status_code == 405


def test_start_without_htmx_redirects_to_the_page(client, make_user):
    client.force_login(make_user(role="MANAGER"))
    response = client.post("/app/task-runs/start/")
    assert response.status_code == 302 and response["Location"] == "/app/"
    assert TaskRun.objects.get().status == TaskStatus.SUCCEEDED


# --- organizations ----------------------------------------------------------------------------------
def test_an_accountant_sees_their_account_page_not_operations(client, make_user):
    client.force_login(make_user(role="USER", is_accountant=True))
    response = client.get("/app/")
    assert response.status_code == 200 and b'id="account-home"' in response.content
    assert client.get("/app/task-runs/").status_code == 403
    assert client.post("/app/task-runs/start/").status_code == 403
    assert not TaskRun.objects.exists()


def test_the_page_and_fragment_show_only_the_organizations_runs(client, make_user, make_organization, organization):
    other = make_organization("Other Co")
    TaskRun.objects.create(name="ours_run", organization=organization)
    TaskRun.objects.create(name="their_run", organization=other)
    TaskRun.objects.create(name="platform_run")
    client.force_login(make_user(role="MANAGER"))
    for url in ("/app/", "/app/task-runs/"):
        html = client.get(url).content.decode()
        assert "ours_run" in html and "their_run" not in html and "platform_run" not in html
    assert "start-platform-collection-stats" not in client.get("/app/").content.decode()
    client.force_login(make_user(role="MANAGER", organization=other))
    html = client.get("/app/task-runs/").content.decode()
    assert "their_run" in html and "ours_run" not in html


def test_a_manager_cannot_start_installation_wide_work(client, make_user):
    client.force_login(make_user(role="MANAGER"))
    assert client.post("/app/task-runs/start/", {"scope": "platform"}).status_code == 403
    assert not TaskRun.objects.exists()


def test_a_superuser_counts_the_whole_installation_and_sees_those_runs(client, make_user, make_organization):
    other = make_organization("Other Co")
    make_user(organization=other)
    superuser = make_user(role="ADMIN", is_superuser=True)
    client.force_login(superuser)
    page = client.get("/app/").content.decode()
    assert 'id="start-platform-collection-stats"' in page and """hx-vals='{"scope": "platform"}'""" in page
    response = client.post("/app/task-runs/start/", {"scope": "platform"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    run = TaskRun.objects.get()
    assert run.organization_id is None and run.status == TaskStatus.SUCCEEDED
    assert run.result["counts"]["users"] == User.objects.count()
    assert 'data-scope="platform"' in response.content.decode()
    client.force_login(make_user(role="ADMIN", organization=other))  # an admin, not a superuser
    assert str(run.pk) not in client.get("/app/task-runs/").content.decode()
