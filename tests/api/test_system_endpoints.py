"""/api/system/: health of every component, the paginated task-run list and detail (scoped to the
organization's staff; installation-wide runs to platform superusers), the OpenAPI schema."""

import pytest
from django.test.utils import CaptureQueriesContext
from django.db import connection

from core import health, localstack, services
from core.models import TaskRun


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user(role="MANAGER"))
    return client


@pytest.fixture
def make_runs(organization):
    def make(n, organization=organization):
        TaskRun.objects.bulk_create([TaskRun(name=f"run-{i:03d}", organization=organization) for i in range(n)])

    return make


# --- health --------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_health_all_ok(client, eth_node, smtp_server):
    response = client.get("/api/system/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok", body
    assert set(body["components"]) == {"database", "chain", "task_queue", "channel_layer", "email"}
    assert all(c["status"] == "ok" for c in body["components"].values())


@pytest.mark.django_db
def test_health_is_503_when_the_database_is_down(client, settings):
    closed = localstack.free_port()
    settings.DATABASES = {"default": {**settings.DATABASES["default"],
                                      "HOST": localstack.embedded_mongodb_uri(closed)}}
    response = client.get("/api/system/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down" and body["components"]["database"]["status"] == "down"


@pytest.mark.django_db
def test_health_degraded_but_200_when_chain_and_email_are_down(client, settings):
    settings.ETH_RPC_URL = f"http://127.0.0.1:{localstack.free_port()}"
    settings.EMAIL_PORT = localstack.free_port()
    response = client.get("/api/system/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["components"]["chain"]["status"] == "down"
    assert body["components"]["email"]["status"] == "down"
    assert body["components"]["database"]["status"] == "ok"


def test_chain_on_the_wrong_network_is_an_error(eth_node):
    status, detail = health.check_chain(eth_node, expected_chain_id=1)
    assert status == "error" and "expected 1" in detail


def test_email_check_talks_smtp(smtp_server, settings):
    assert health.check_email(settings.EMAIL_HOST, settings.EMAIL_PORT)[0] == "ok"


# --- task-run list and pagination -------------------------------------------------------------------
@pytest.mark.django_db
def test_task_runs_first_page_has_next_link(staff_client, make_runs):
    make_runs(5)
    body = staff_client.get("/api/system/task-runs/?limit=2").json()
    assert [item["name"] for item in body["items"]] == ["run-004", "run-003"] or len(body["items"]) == 2
    assert body["limit"] == 2 and body["offset"] == 0
    # Newest first over the time index: the next page is asked for by cursor (core.windows).
    assert "/api/system/task-runs/?limit=2&cursor=" in body["next"] and body["next_cursor"]
    assert "count" not in body
    # An offset still pages as the spec has it.
    assert staff_client.get("/api/system/task-runs/?limit=2&offset=2").json()["next"].endswith(
        "/api/system/task-runs/?limit=2&offset=4")


@pytest.mark.django_db
def test_task_runs_pages_cover_every_row_once(staff_client, make_runs):
    make_runs(5)
    seen, url = [], "/api/system/task-runs/?limit=2"
    while url:
        body = staff_client.get(url).json()
        seen += [item["id"] for item in body["items"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.django_db
def test_last_page_has_no_next(staff_client, make_runs):
    make_runs(3)
    body = staff_client.get("/api/system/task-runs/?limit=3").json()
    assert len(body["items"]) == 3 and body["next"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["limit=0", "limit=201", "offset=-1", "limit=abc"])
def test_bad_pagination_parameters_are_422(staff_client, query):
    response = staff_client.get(f"/api/system/task-runs/?{query}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.django_db
def test_task_run_items_have_string_ids(staff_client, make_runs):
    make_runs(1)
    item = staff_client.get("/api/system/task-runs/").json()["items"][0]
    assert isinstance(item["id"], str) and len(item["id"]) == 24
    assert item["status"] == "QUEUED" and item["progress"] == 0


@pytest.mark.django_db
def test_list_queries_do_not_grow_with_rows(staff_client, make_runs):
    def queries_for_page():
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get("/api/system/task-runs/?limit=50").status_code == 200
        return len(captured.captured_queries)

    make_runs(3)
    few = queries_for_page()
    make_runs(40)
    many = queries_for_page()
    assert few > 0, "query capture must count MongoDB operations on this backend"
    assert many == few


# --- who reads which task runs ---------------------------------------------------------------------
@pytest.mark.django_db
def test_task_runs_need_a_login(client):
    assert client.get("/api/system/task-runs/").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [{"role": "USER"}, {"role": "USER", "is_accountant": True}])
def test_task_runs_are_not_for_plain_users_or_accountants(client, make_user, make_runs, fields):
    make_runs(1)
    client.force_login(make_user(**fields))
    response = client.get("/api/system/task-runs/")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"
    run = TaskRun.objects.get()
    assert client.get(f"/api/system/task-runs/{run.pk}/").status_code == 403


@pytest.mark.django_db
def test_task_runs_by_jwt_follow_the_same_rule(client, make_user, make_runs, access_token_for):
    make_runs(2)
    user_token = access_token_for(make_user(role="USER"))
    assert client.get("/api/system/task-runs/", HTTP_AUTHORIZATION=f"Bearer {user_token}").status_code == 403
    manager_token = access_token_for(make_user(role="MANAGER"))
    body = client.get("/api/system/task-runs/", HTTP_AUTHORIZATION=f"Bearer {manager_token}").json()
    assert len(body["items"]) == 2


@pytest.mark.django_db
def test_a_manager_reads_only_their_organizations_runs(client, make_user, make_organization, make_runs, organization):
    other = make_organization("Other Co")
    make_runs(2)
    make_runs(3, organization=other)
    make_runs(1, organization=None)  # installation-wide
    client.force_login(make_user(role="MANAGER", organization=other))
    items = client.get("/api/system/task-runs/").json()["items"]
    assert len(items) == 3 and {item["organization_id"] for item in items} == {str(other.pk)}
    for run in TaskRun.objects.exclude(organization=other):
        response = client.get(f"/api/system/task-runs/{run.pk}/")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_a_superuser_also_reads_the_installation_wide_runs_but_not_other_organizations(
        client, make_user, make_organization, make_runs, organization):
    other = make_organization("Other Co")
    make_runs(2)
    make_runs(1, organization=other)
    make_runs(1, organization=None)
    client.force_login(make_user(role="ADMIN", is_superuser=True))
    items = client.get("/api/system/task-runs/").json()["items"]
    assert sorted(str(item["organization_id"]) for item in items) == sorted([str(organization.pk)] * 2 + ["None"])
    platform = TaskRun.objects.get(organization__isnull=True)
    assert client.get(f"/api/system/task-runs/{platform.pk}/").status_code == 200
    theirs = TaskRun.objects.get(organization=other)
    assert client.get(f"/api/system/task-runs/{theirs.pk}/").status_code == 404


@pytest.mark.django_db
def test_task_run_detail_has_the_log_lines(staff_client, organization):
    run = services.task_run_create(name="probe", organization_id=organization.pk)
    services.task_run_start(task_run_id=run.pk)
    services.task_run_log(task_run_id=run.pk, message="counted 3 users", level="INFO")
    services.task_run_fail(task_run_id=run.pk, error="node unreachable")
    body = staff_client.get(f"/api/system/task-runs/{run.pk}/").json()
    assert body["id"] == str(run.pk) and body["status"] == "FAILED" and body["error"] == "node unreachable"
    assert [(line["level"], line["message"]) for line in body["log_lines"]] == [("INFO", "counted 3 users")]
    assert body["organization_id"] == str(organization.pk)


# --- OpenAPI ---------------------------------------------------------------------------------------
def test_openapi_lists_system_endpoints_and_object_id_pattern(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/system/health/" in schema["paths"]
    assert "/api/system/task-runs/" in schema["paths"]
    assert "/api/system/task-runs/{task_run_id}/" in schema["paths"]
    task_run = schema["components"]["schemas"]["TaskRunOut"]["properties"]["id"]
    assert task_run["pattern"] == "^[0-9a-fA-F]{24}$"


def test_docs_page_is_served_offline(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert b"/static/ninja/swagger-ui-bundle.js" in response.content
    assert b"cdn" not in response.content.lower()


# --- run-tasks, clear-cache, automation (issue 16) -------------------------------------------------
from accounts.models import AuditLogEntry  # noqa: E402
from core.models import AutomationState, RealtimeEvent  # noqa: E402
from core.realtime import StaffFeed, staff_feed_group  # noqa: E402
from core.scheduling import JOBS  # noqa: E402

PERIODIC_JOBS = {"wallet_monitor", "sends_reconcile", "prices_refresh", "price_alerts", "journals_sync",
                 "rate_limits_prune", "outbox_prune", "task_runs_prune"}


@pytest.fixture
def superuser(make_user):
    return make_user(role="ADMIN", is_superuser=True)


def post(client, user, path, body):
    client.force_login(user)
    return client.post(path, body, content_type="application/json")


@pytest.mark.django_db
def test_every_periodic_job_is_registered_with_a_schedule(client, superuser):
    client.force_login(superuser)
    body = client.get("/api/system/automation/status/").json()
    assert body["enabled"] is True
    jobs = {job["name"]: job for job in body["jobs"]}
    assert PERIODIC_JOBS <= set(jobs), sorted(jobs)
    assert jobs["prices_refresh"]["schedule"] == "*/10 * * * *"
    assert all(job["next_run_at"] and not job["paused"] for job in jobs.values())
    assert jobs["journals_sync"]["organization_form"] and not jobs["wallet_monitor"]["organization_form"]


@pytest.mark.django_db
def test_superuser_runs_a_job_as_a_tracked_installation_wide_run(client, superuser):
    response = post(client, superuser, "/api/system/run-tasks/", {"jobs": ["outbox_prune"]})
    assert response.status_code == 202, response.content
    (run,) = response.json()["task_runs"]
    assert run["name"] == "outbox_prune" and run["status"] == "SUCCEEDED" and run["organization_id"] is None
    stored = TaskRun.objects.get(pk=run["id"])
    assert stored.triggered_by == superuser and stored.result == 0
    status = {j["name"]: j for j in client.get("/api/system/automation/status/").json()["jobs"]}
    assert status["outbox_prune"]["last_outcome"] == "SUCCEEDED" and status["outbox_prune"]["runs"] == 1
    assert status["outbox_prune"]["last_task_run_id"] == run["id"]


@pytest.mark.django_db
def test_unknown_jobs_are_422_with_the_list(client, superuser):
    response = post(client, superuser, "/api/system/run-tasks/", {"jobs": ["outbox_prune", "make_coffee"]})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unknown_job" and error["details"]["unknown"] == ["make_coffee"]
    assert PERIODIC_JOBS <= set(error["details"]["jobs"])
    assert not TaskRun.objects.exists()  # nothing queued when one name is wrong
    assert post(client, superuser, "/api/system/run-tasks/", {"jobs": []}).status_code == 422
    assert post(client, superuser, "/api/system/run-tasks/", {"jobs": ["x"], "extra": 1}).status_code == 422


@pytest.mark.django_db
def test_an_organization_admin_runs_the_organization_form_for_their_own_organization(client, make_user, organization):
    admin = make_user(role="ADMIN")
    response = post(client, admin, "/api/system/run-tasks/", {"jobs": ["journals_sync"]})
    assert response.status_code == 202, response.content
    (run,) = response.json()["task_runs"]
    assert run["organization_id"] == str(organization.pk) and run["status"] == "SUCCEEDED"
    # Installation-wide jobs are not theirs.
    refused = post(client, admin, "/api/system/run-tasks/", {"jobs": ["wallet_monitor"]})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "job_has_no_organization_form"
    # Nor are the automation switch and the other organizations' caches.
    assert post(client, admin, "/api/system/automation/stop/", {}).status_code == 403
    assert post(client, admin, "/api/system/clear-cache/", {"installation_wide": True}).status_code == 403
    assert client.get("/api/system/automation/status/").status_code == 200  # reading is allowed


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [{"role": "USER"}, {"role": "USER", "is_accountant": True}, {"role": "MANAGER"}])
def test_system_controls_are_not_for_members_accountants_or_managers(client, make_user, fields):
    user = make_user(**fields)
    for path, body in [("/api/system/run-tasks/", {"jobs": ["journals_sync"]}), ("/api/system/clear-cache/", {}),
                       ("/api/system/automation/start/", {}), ("/api/system/automation/stop/", {})]:
        response = post(client, user, path, body)
        assert response.status_code == 403, (path, response.content)
    assert client.get("/api/system/automation/status/").status_code == 403
    assert not TaskRun.objects.exists() and not AutomationState.objects.exists()


@pytest.mark.django_db
def test_system_controls_need_a_login(client):
    assert client.post("/api/system/run-tasks/", {"jobs": ["x"]}, content_type="application/json").status_code == 401
    assert client.get("/api/system/automation/status/").status_code == 401


@pytest.mark.django_db
def test_stop_and_start_one_job_and_all_are_stored_audited_and_announced(client, superuser):
    stopped = post(client, superuser, "/api/system/automation/stop/", {"job": "prices_refresh"})
    assert stopped.status_code == 200, stopped.content
    jobs = {j["name"]: j for j in stopped.json()["jobs"]}
    assert jobs["prices_refresh"]["paused"] and not jobs["prices_refresh"]["enabled"]
    assert jobs["prices_refresh"]["next_run_at"] is None and not jobs["price_alerts"]["paused"]
    everything = post(client, superuser, "/api/system/automation/stop/", {}).json()
    assert everything["enabled"] is False and all(j["paused"] for j in everything["jobs"])
    started = post(client, superuser, "/api/system/automation/start/", {}).json()
    jobs = {j["name"]: j for j in started["jobs"]}
    assert started["enabled"] is True and jobs["prices_refresh"]["paused"] and not jobs["price_alerts"]["paused"]
    post(client, superuser, "/api/system/automation/start/", {"job": "prices_refresh"})
    assert AutomationState.objects.get(job="prices_refresh").enabled is True
    assert list(AuditLogEntry.objects.filter(actor=superuser).order_by("created_at").values_list("action", flat=True)) \
        == ["automation_stop", "automation_stop", "automation_start", "automation_start"]
    events = RealtimeEvent.objects.filter(group=staff_feed_group(None, StaffFeed.TASK_LOGS),
                                          event_type="automation.changed")
    assert [(e.payload["job"], e.payload["enabled"]) for e in events.order_by("id")] == [
        ("prices_refresh", False), (None, False), (None, True), ("prices_refresh", True)]
    unknown = post(client, superuser, "/api/system/automation/stop/", {"job": "nope"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_job"


@pytest.mark.django_db
def test_a_stopped_job_is_skipped_on_its_schedule_but_runs_when_asked(superuser):
    from core.scheduling import automation_set, job_enqueue

    automation_set(enabled=False)
    JOBS["outbox_prune"].task()  # what the scheduler enqueues (immediate mode runs it here)
    state = AutomationState.objects.get(job="outbox_prune")
    assert state.skips == 1 and state.runs == 0 and not TaskRun.objects.exists()
    run = job_enqueue("outbox_prune", triggered_by=superuser)  # a person's explicit request
    assert run.status == "SUCCEEDED"
    automation_set(enabled=True)
    JOBS["outbox_prune"].task()
    state.refresh_from_db()
    assert state.runs == 2 and TaskRun.objects.filter(name="outbox_prune").count() == 2


@pytest.mark.django_db
def test_clear_cache_lists_what_it_cleared(client, make_user, superuser, organization):
    admin = make_user(role="ADMIN")
    response = post(client, admin, "/api/system/clear-cache/", {})
    assert response.status_code == 200, response.content
    cleared = response.json()["cleared"]
    assert [c["name"] for c in cleared] == ["dashboard"] and cleared[0]["organization_id"] == str(organization.pk)
    everywhere = post(client, superuser, "/api/system/clear-cache/", {"installation_wide": True}).json()["cleared"]
    assert everywhere[0]["organization_id"] is None
    unknown = post(client, admin, "/api/system/clear-cache/", {"caches": ["dashboard", "nope"]})
    assert unknown.status_code == 422 and unknown.json()["error"]["details"] == {"unknown": ["nope"],
                                                                               "caches": ["dashboard"]}


def test_openapi_lists_the_new_system_and_dashboard_endpoints(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ["/api/system/run-tasks/", "/api/system/clear-cache/", "/api/system/automation/status/",
                 "/api/system/automation/start/", "/api/system/automation/stop/", "/api/dashboard/"]:
        assert path in paths, path
