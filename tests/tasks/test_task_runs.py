"""Task-run records: lifecycle rules, concurrent log lines, the tracked-task decorator, the
organization a run belongs to and who hears about it, and a real huey consumer process running a
task end to end."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.db import connection, connections

from django.core.exceptions import PermissionDenied

from core import services
from core.models import RealtimeEvent, TaskRun, TaskStatus
from core.realtime import Audience, StaffFeed, organization_group, staff_feed_group, user_group
from core.selectors import task_run_list
from core.tasking import tracked_task
from core.tasks import collection_stats

PLATFORM_TASK_LOGS = staff_feed_group(None, StaffFeed.TASK_LOGS)

pytestmark = pytest.mark.django_db(transaction=True)


def test_lifecycle_success():
    run = services.task_run_create(name="probe")
    services.task_run_start(task_run_id=run.pk)
    services.task_run_set_progress(task_run_id=run.pk, progress=40, message="halfway-ish")
    services.task_run_log(task_run_id=run.pk, message="did a thing")
    services.task_run_succeed(task_run_id=run.pk, result={"n": 3})
    run.refresh_from_db()
    assert run.status == TaskStatus.SUCCEEDED and run.progress == 100 and run.result == {"n": 3}
    assert run.started_at and run.finished_at and run.finished_at >= run.started_at
    assert [line.message for line in run.log_lines] == ["did a thing"]


def groups_of_events():
    return {e.group for e in RealtimeEvent.objects.filter(event_type="task_run.updated")}


def test_every_change_publishes_an_event_after_commit(make_user, organization):
    manager = make_user(role="MANAGER")
    run = services.task_run_create(name="probe", triggered_by=manager)
    services.task_run_start(task_run_id=run.pk)
    staff = organization_group(organization.pk, Audience.STAFF)
    events = RealtimeEvent.objects.filter(event_type="task_run.updated", group=staff)
    assert [e.payload["status"] for e in events.order_by("created_at") if "status" in e.payload] == ["QUEUED", "RUNNING"]
    assert RealtimeEvent.objects.filter(group=staff_feed_group(organization.pk, StaffFeed.TASK_LOGS)).count() == 2
    # The manager hears it through their organization's staff audience: not twice.
    assert groups_of_events() == {staff, staff_feed_group(organization.pk, StaffFeed.TASK_LOGS)}


def test_a_run_belongs_to_the_organization_of_who_started_it(make_user, organization):
    run = services.task_run_create(name="probe", triggered_by=make_user(role="MANAGER"))
    assert run.organization_id == organization.pk


def test_a_run_without_a_user_is_installation_wide_and_only_the_platform_feed_hears_it():
    run = services.task_run_create(name="monitor")
    services.task_run_log(task_run_id=run.pk, message="block 12")
    assert run.organization_id is None
    assert groups_of_events() == {PLATFORM_TASK_LOGS}
    assert all(not e.group.startswith(("org.", "user.")) for e in RealtimeEvent.objects.all())


def test_a_member_who_starts_work_follows_its_progress_but_not_its_logs(make_user, organization):
    member = make_user(role="USER")
    run = services.task_run_create(name="reporting.tax_report_generate", triggered_by=member)
    services.task_run_start(task_run_id=run.pk)
    services.task_run_log(task_run_id=run.pk, message="secret detail")
    own = RealtimeEvent.objects.filter(group=user_group(member.pk)).order_by("created_at")
    assert [e.payload.get("status") for e in own] == ["QUEUED", "RUNNING", None]
    assert not any("secret detail" in str(e.payload) for e in own)
    logs = RealtimeEvent.objects.filter(group=staff_feed_group(organization.pk, StaffFeed.TASK_LOGS))
    assert any(e.payload.get("log_line") == "secret detail" for e in logs)


def test_explicit_organization_wins_and_must_be_the_starters_own(make_user, make_organization, organization):
    other = make_organization("Other Co")
    manager = make_user(role="MANAGER")
    assert services.task_run_create(name="p", organization_id=other.pk).organization_id == other.pk  # system work
    with pytest.raises(PermissionDenied):
        services.task_run_create(name="p", triggered_by=manager, organization_id=other.pk)
    with pytest.raises(PermissionDenied):
        services.task_run_create(name="p", triggered_by=manager, organization_id=None)  # installation-wide
    superuser = make_user(role="ADMIN", is_superuser=True)
    platform = services.task_run_create(name="p", triggered_by=superuser, organization_id=None)
    assert platform.organization_id is None
    with pytest.raises(PermissionDenied):
        services.task_run_create(name="p", triggered_by=superuser, organization_id=other.pk)
    assert not TaskRun.objects.filter(organization=other, triggered_by__isnull=False).exists()


def test_platform_run_started_by_a_superuser_reaches_them_and_the_platform_feed(make_user):
    superuser = make_user(role="ADMIN", is_superuser=True)
    run = services.task_run_create(name="p", triggered_by=superuser, organization_id=None)
    assert run.organization_id is None
    assert groups_of_events() == {PLATFORM_TASK_LOGS, user_group(superuser.pk)}


def test_task_run_list_is_scoped_to_the_organization(make_user, make_organization, organization):
    other = make_organization("Other Co")
    ours = services.task_run_create(name="ours", organization_id=organization.pk)
    theirs = services.task_run_create(name="theirs", organization_id=other.pk)
    platform = services.task_run_create(name="platform")
    manager, accountant = make_user(role="MANAGER"), make_user(role="USER", is_accountant=True)
    superuser = make_user(role="ADMIN", is_superuser=True)
    assert [r.pk for r in task_run_list(actor=manager)] == [ours.pk]
    assert set(task_run_list(actor=superuser).values_list("pk", flat=True)) == {ours.pk, platform.pk}
    assert not task_run_list(actor=accountant).exists()
    assert not task_run_list(actor=make_user(role="USER")).exists()
    assert [r.pk for r in task_run_list(actor=make_user(role="ADMIN", organization=other))] == [theirs.pk]


@pytest.mark.parametrize("progress", [-1, 101, 50.5, "10", True])
def test_progress_must_be_a_whole_percentage(progress):
    run = services.task_run_create(name="probe")
    services.task_run_start(task_run_id=run.pk)
    with pytest.raises(ValueError):
        services.task_run_set_progress(task_run_id=run.pk, progress=progress)


def test_no_transition_out_of_a_finished_state():
    run = services.task_run_create(name="probe")
    services.task_run_start(task_run_id=run.pk)
    services.task_run_succeed(task_run_id=run.pk)
    with pytest.raises(services.TaskRunStateError):
        services.task_run_fail(task_run_id=run.pk, error="late")
    with pytest.raises(services.TaskRunStateError):
        services.task_run_start(task_run_id=run.pk)
    with pytest.raises(services.TaskRunStateError):
        services.task_run_set_progress(task_run_id=run.pk, progress=5)
    run.refresh_from_db()
    assert run.status == TaskStatus.SUCCEEDED


def test_progress_needs_a_started_run():
    run = services.task_run_create(name="probe")
    with pytest.raises(services.TaskRunStateError):
        services.task_run_set_progress(task_run_id=run.pk, progress=5)


def test_log_of_a_missing_run_fails():
    from bson import ObjectId

    with pytest.raises(services.TaskRunStateError):
        services.task_run_log(task_run_id=ObjectId(), message="nobody")
    with pytest.raises(services.TaskRunStateError):
        services.task_run_log(task_run_id="not-an-object-id", message="nobody")
    with pytest.raises(services.TaskRunStateError):
        services.task_run_start(task_run_id="not-an-object-id")


def test_log_level_must_be_known():
    run = services.task_run_create(name="probe")
    with pytest.raises(ValueError):
        services.task_run_log(task_run_id=run.pk, message="x", level="LOUD")
    run.refresh_from_db()
    assert run.log_lines == []


def test_log_keeps_the_newest_lines_only(monkeypatch):
    monkeypatch.setattr(services, "MAX_LOG_LINES", 3)
    run = services.task_run_create(name="probe")
    for n in range(5):
        services.task_run_log(task_run_id=run.pk, message=f"line {n}")
    run.refresh_from_db()
    assert [line.message for line in run.log_lines] == ["line 2", "line 3", "line 4"]


def test_concurrent_log_lines_are_all_kept():
    run = services.task_run_create(name="probe")

    def write(worker):
        try:
            for i in range(10):
                services.task_run_log(task_run_id=run.pk, message=f"w{worker}-{i}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.refresh_from_db()
    assert sorted(line.message for line in run.log_lines) == sorted(f"w{w}-{i}" for w in range(4) for i in range(10))


@tracked_task("probe_failing")
def failing_task(reporter, fail_with):
    reporter.log("about to fail")
    raise ValueError(fail_with)


@tracked_task("probe_adding")
def adding_task(reporter, a, b):
    reporter.progress(50, "adding")
    return {"sum": a + b}


def test_tracked_task_records_success_and_result():
    run = adding_task.enqueue(2, 3)
    assert run.status == TaskStatus.SUCCEEDED and run.result == {"sum": 5}
    assert run.name == "probe_adding" and run.progress == 100
    assert len(run.huey_task_id) == 36  # huey's task id, to find the run in the queue's logs


attempts = {"flaky": 0}


@tracked_task("probe_flaky", retries=2)
def flaky_task(reporter, failures):
    attempts["flaky"] += 1
    if attempts["flaky"] <= failures:
        raise ConnectionError(f"node unreachable (attempt {attempts['flaky']})")
    return {"attempts": attempts["flaky"]}


def test_tracked_task_retried_by_huey_succeeds_on_a_later_attempt():
    attempts["flaky"] = 0
    run = flaky_task.enqueue(1)
    assert run.status == TaskStatus.SUCCEEDED and run.result == {"attempts": 2}
    # The failed attempt stays visible in the log; `error` is only for a run that failed.
    assert [(line.level, "attempt 1" in line.message) for line in run.log_lines] == [("ERROR", True)]
    assert run.error == ""
    events = RealtimeEvent.objects.filter(group=PLATFORM_TASK_LOGS).order_by("created_at")
    statuses = [e.payload["status"] for e in events if "status" in e.payload]
    assert statuses == ["QUEUED", "RUNNING", "QUEUED", "RUNNING", "SUCCEEDED"]


def test_tracked_task_fails_when_retries_are_exhausted():
    attempts["flaky"] = 0
    run = flaky_task.enqueue(5)
    assert attempts["flaky"] == 3  # the first attempt and two retries
    assert run.status == TaskStatus.FAILED and "attempt 3" in run.error and run.finished_at


def test_tracked_task_records_failure_with_the_error():
    run = failing_task.enqueue("bad input 9f1")
    assert run.status == TaskStatus.FAILED
    assert "bad input 9f1" in run.error
    assert [line.level for line in run.log_lines] == ["INFO", "ERROR"]


def test_tracked_task_remembers_who_started_it_and_their_organization(make_user, organization):
    user = make_user(role="MANAGER")
    run = adding_task.enqueue(1, 1, triggered_by=user)
    assert run.triggered_by_id == user.pk and run.organization_id == organization.pk


@tracked_task("probe_for_organization")
def organization_task(reporter, organization_id):
    return {"organization_id": organization_id}


@tracked_task("probe_platform", platform=True)
def platform_task(reporter):
    return {}


def test_tracked_task_hands_the_run_organization_to_work_that_takes_one(make_user, make_organization, organization):
    manager = make_user(role="MANAGER")
    run = organization_task.enqueue(triggered_by=manager)
    assert run.organization_id == organization.pk and run.result == {"organization_id": str(organization.pk)}
    other = make_organization("Other Co")
    explicit = organization_task.enqueue(organization_id=str(other.pk))  # system work names its organization
    assert explicit.organization_id == other.pk and explicit.result == {"organization_id": str(other.pk)}
    with pytest.raises(PermissionDenied):
        organization_task.enqueue(organization_id=str(other.pk), triggered_by=manager)


def test_platform_tracked_task_never_belongs_to_an_organization(make_user):
    superuser = make_user(role="ADMIN", is_superuser=True)
    assert platform_task.enqueue(triggered_by=superuser).organization_id is None
    assert platform_task.enqueue().organization_id is None
    with pytest.raises(PermissionDenied):
        platform_task.enqueue(triggered_by=make_user(role="MANAGER"))


def test_collection_stats_counts_every_collection(make_user):
    make_user()
    run = collection_stats.enqueue()
    assert run.status == TaskStatus.SUCCEEDED and run.organization_id is None
    assert run.result["counts"]["users"] == 1
    assert run.result["collections"] == len(run.log_lines)
    assert any(line.message.startswith("users: 1 ") for line in run.log_lines)


def test_collection_stats_of_an_organization_counts_only_its_documents(make_user, make_organization, organization):
    manager = make_user(role="MANAGER")
    make_user()
    other = make_organization("Other Co")
    for _ in range(3):
        make_user(organization=other)
    run = collection_stats.enqueue(triggered_by=manager)
    assert run.status == TaskStatus.SUCCEEDED and run.organization_id == organization.pk
    assert run.result["counts"]["users"] == 2 and run.result["organization_id"] == str(organization.pk)


@pytest.fixture
def queued_mode():
    """The app's huey queue in its real (non-immediate) mode: tasks go to the SQLite file."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = False
    HUEY.flush()
    yield HUEY
    HUEY.flush()
    HUEY.immediate = True


def test_enqueue_that_cannot_queue_fails_the_run(queued_mode):
    with pytest.raises(Exception):
        adding_task.enqueue(lambda: 1, 2)  # a lambda does not pickle: nothing reaches the queue
    run = TaskRun.objects.get()
    assert run.status == TaskStatus.FAILED and "could not be queued" in run.error
    assert queued_mode.pending_count() == 0


def test_enqueue_in_queued_mode_returns_the_queued_run(queued_mode):
    run = adding_task.enqueue(1, 2)
    assert run.status == TaskStatus.QUEUED and queued_mode.pending_count() == 1


@pytest.mark.integration
def test_real_consumer_process_runs_an_enqueued_task(queued_mode):
    """Enqueue through the app's queue file; a `run_huey` process executes the task."""
    env = {
        **os.environ,
        "MONGODB_URI": settings.DATABASES["default"]["HOST"],
        "MONGODB_NAME": connection.settings_dict["NAME"],
        "HUEY_IMMEDIATE": "false",
        "HUEY_SQLITE_PATH": settings.HUEY["filename"],
        "LOG_TO_FILES": "false",
    }
    consumer = subprocess.Popen(
        [sys.executable, "manage.py", "run_huey", "--workers", "1", "--no-periodic"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        run = collection_stats.enqueue()
        assert run.status == TaskStatus.QUEUED
        # A generous deadline (a loaded CI machine starts a Django process slowly); it is not a speed test.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED):
                break
            time.sleep(0.2)
        assert run.status == TaskStatus.SUCCEEDED, f"waited 300 s for the consumer to finish the task: " \
                                                   f"status {run.status}, error {run.error!r}"
        assert run.result["collections"] > 0 and run.huey_task_id
        # Its events went through the outbox, where any web process's relay picks them up.
        assert RealtimeEvent.objects.filter(group=PLATFORM_TASK_LOGS, payload__status="SUCCEEDED").exists()
    finally:
        consumer.send_signal(signal.SIGINT)
        try:
            output, _ = consumer.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            consumer.kill()
            output, _ = consumer.communicate()
            raise AssertionError("consumer did not stop on SIGINT:\n" + output.decode()[-3000:])
    assert consumer.returncode == 0, output.decode()[-2000:]


def test_migration_moves_existing_runs_to_their_starters_organization(make_user, organization):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("core.migrations.0003_task_run_organizations")
    started = TaskRun.objects.create(name="old", triggered_by=make_user(role="MANAGER"))
    unattended = TaskRun.objects.create(name="old_monitor")
    migration.runs_to_their_starters_organization(apps, None)
    started.refresh_from_db()
    unattended.refresh_from_db()
    assert started.organization_id == organization.pk and unattended.organization_id is None
