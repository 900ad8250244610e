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
from core.models import RealtimeEvent, TaskStatus
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


@pytest.mark.parametrize("progress", [-1, 101, 50.5, "10"])
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
    assert run.name == "probe_adding"


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


@pytest.mark.integration
def test_real_consumer_process_runs_an_enqueued_task(tmp_path):
    """Enqueue from this process into a file-backed queue; a `run_huey` process executes it."""
    from huey import SqliteHuey

    queue_file = tmp_path / "huey.sqlite3"
    env = {
        **os.environ,
        "MONGODB_URI": settings.DATABASES["default"]["HOST"],
        "MONGODB_NAME": connection.settings_dict["NAME"],
        "HUEY_IMMEDIATE": "false",
        "HUEY_SQLITE_PATH": str(queue_file),
        "LOG_TO_FILES": "false",
    }
    consumer = subprocess.Popen(
        [sys.executable, "manage.py", "run_huey", "--workers", "1"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        from huey.contrib.djhuey import HUEY

        # Serialise with the app's queue, store in the consumer's queue file.
        run = services.task_run_create(name="collection_stats")
        message = HUEY.serialize_task(collection_stats.s(run.pk))
        SqliteHuey(name="crypto_accounting", filename=str(queue_file)).storage.enqueue(message, 0)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED):
                break
            time.sleep(0.2)
        assert run.status == TaskStatus.SUCCEEDED, run.error
        assert run.result["collections"] > 0
    finally:
        consumer.send_signal(signal.SIGINT)
        try:
            output, _ = consumer.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            consumer.kill()
            output, _ = consumer.communicate()
            raise AssertionError("consumer did not stop on SIGINT:\n" + output.decode()[-3000:])
    assert consumer.returncode == 0, output.decode()[-2000:]
