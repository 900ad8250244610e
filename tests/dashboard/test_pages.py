"""The back-office pages: /app/dashboard/ (the API's selectors) and /app/system/ (the system controls,
with the same rules as /api/system/)."""

import pytest

from core.models import AutomationState, TaskRun
from core.scheduling import automation_set

pytestmark = pytest.mark.django_db


def test_dashboard_page_shows_the_figures_and_the_live_feed_to_staff(client, books, make_user):
    client.force_login(books["accountant"])
    page = client.get("/app/dashboard/").content.decode()
    assert 'data-field="portfolio.total_value"' in page and "$6,000.00" in page
    assert 'data-key="transactions_unclassified"' in page
    assert "/ws/admin/dashboard-stats/" not in page  # an accountant is not staff: no staff feed
    client.force_login(make_user(role="MANAGER"))
    assert "/ws/admin/dashboard-stats/" in client.get("/app/dashboard/").content.decode()


def test_dashboard_page_needs_a_login(client):
    assert client.get("/app/dashboard/").status_code == 302


def test_system_page_for_admins_with_the_jobs_and_their_runs(client, make_user):
    admin = make_user(role="ADMIN")
    client.force_login(admin)
    client.post("/app/system/run/", {"job": "journals_sync", "scope": "organization"})
    page = client.get("/app/system/").content.decode()
    assert 'data-job="prices_refresh"' in page and 'id="automation-toggle"' not in page
    run = TaskRun.objects.get(name="journals_sync")
    assert f'data-run="{run.pk}"' in page
    refused = client.post("/app/system/automation/", {"action": "stop"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403 and "platform superusers" in refused.content.decode()
    assert not AutomationState.objects.exists()


@pytest.mark.parametrize("role", ["USER", "MANAGER"])
def test_system_page_is_not_for_members_or_managers(client, make_user, role):
    client.force_login(make_user(role=role))
    assert client.get("/app/system/").status_code == 403
    assert client.post("/app/system/clear-cache/", {}).status_code == 403


def test_a_superuser_stops_and_starts_automation_from_the_page(client, make_user):
    client.force_login(make_user(role="ADMIN", is_superuser=True))
    response = client.post("/app/system/automation/", {"action": "stop"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-enabled="false"' in response.content.decode()
    assert AutomationState.objects.get(job="*").enabled is False
    client.post("/app/system/automation/", {"action": "stop", "job": "price_alerts"})
    client.post("/app/system/automation/", {"action": "start"})
    page = client.get("/app/system/").content.decode()
    assert 'data-enabled="true"' in page
    assert 'data-job="price_alerts" data-paused="true"' in page and 'data-job="prices_refresh" data-paused="false"' in page
    automation_set(enabled=True, job="price_alerts")
