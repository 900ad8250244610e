"""Task-run records: lifecycle rules, concurrent log lines, the tracked-task decorator, and a real
huey consumer process running a task end to end."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.db import connection, connections

from core import services
from core.models import RealtimeEvent, TaskRun, TaskStatus
from core.tasking import tracked_task
from core.tasks import collection_stats

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


def test_every_change_publishes_an_event_after_commit():
    run = services.task_run_create(name="probe")
    services.task_run_start(task_run_id=run.pk)
    events = RealtimeEvent.objects.filter(event_type="task_run.updated", group="live")
    assert [e.payload["status"] for e in events.order_by("created_at") if "status" in e.payload] == ["QUEUED", "RUNNING"]
    assert RealtimeEvent.objects.filter(group="admin.task-logs").count() == 2


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
    events = RealtimeEvent.objects.filter(group="admin.task-logs").order_by("created_at")
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


def test_tracked_task_remembers_who_started_it(make_user):
    user = make_user(role="MANAGER")
    run = adding_task.enqueue(1, 1, triggered_by=user)
    assert run.triggered_by_id == user.pk


def test_collection_stats_counts_every_collection(make_user):
    make_user()
    run = collection_stats.enqueue()
    assert run.status == TaskStatus.SUCCEEDED
    assert run.result["counts"]["users"] == 1
    assert run.result["collections"] == len(run.log_lines)
    assert any(line.message.startswith("users: 1 ") for line in run.log_lines)


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
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED):
                break
            time.sleep(0.2)
        assert run.status == TaskStatus.SUCCEEDED, run.error
        assert run.result["collections"] > 0 and run.huey_task_id
        # Its events went through the outbox, where any web process's relay picks them up.
        assert RealtimeEvent.objects.filter(group="live", payload__status="SUCCEEDED").exists()
    finally:
        consumer.send_signal(signal.SIGINT)
        try:
            output, _ = consumer.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            consumer.kill()
            output, _ = consumer.communicate()
            raise AssertionError("consumer did not stop on SIGINT:\n" + output.decode()[-3000:])
    assert consumer.returncode == 0, output.decode()[-2000:]
