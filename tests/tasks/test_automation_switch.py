"""The automation switch with a real huey consumer process (`manage.py run_huey`, periodic scheduler on):
the switch lives in the database, so the worker process obeys what this process stored.

A consumer checks its periodic schedules when it starts and then every minute; every-minute jobs
(`price_alerts`) are due at each check, so starting a consumer is "advancing past a schedule".
1. Automation stopped: a consumer comes, the job's schedule passes (the worker records the skip), and
   nothing runs: no TaskRun.
2. Automation started (every other job paused, so only this one is judged): a new consumer (the switch
   held across the restart) runs the job once, as a TaskRun.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from core.models import AutomationState, TaskRun, TaskStatus
from core.scheduling import automation_set, jobs_discover

JOB = "price_alerts"
DEADLINE_SECONDS = 300  # generous: a loaded machine starts a Django process slowly; not a speed test


@pytest.fixture
def queued_mode():
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = False
    HUEY.flush()
    yield HUEY
    HUEY.flush()
    HUEY.immediate = True


def start_consumer():
    env = {**os.environ, "MONGODB_URI": settings.DATABASES["default"]["HOST"],
           "MONGODB_NAME": connection.settings_dict["NAME"], "HUEY_IMMEDIATE": "false",
           "HUEY_SQLITE_PATH": settings.HUEY["filename"], "LOG_TO_FILES": "false", "PRICE_API_BASE_URL": ""}
    return subprocess.Popen([sys.executable, "manage.py", "run_huey", "--workers", "1"],
                            cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def stop_consumer(consumer) -> str:
    consumer.send_signal(signal.SIGINT)
    try:
        output, _ = consumer.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        consumer.kill()
        output, _ = consumer.communicate()
        raise AssertionError("consumer did not stop on SIGINT:\n" + output.decode()[-3000:])
    return output.decode()


def wait_for(predicate, what: str):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"waited {DEADLINE_SECONDS} s for {what}")


def state():
    return AutomationState.objects.filter(job=JOB).first()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_stopped_automation_runs_nothing_and_started_runs_the_job_once(queued_mode):
    jobs = jobs_discover()
    assert JOB in jobs
    automation_set(enabled=False)

    consumer = start_consumer()
    try:
        wait_for(lambda: state() is not None and state().skips >= 1, f"the consumer to reach {JOB}'s schedule")
    finally:
        output = stop_consumer(consumer)
    assert not TaskRun.objects.filter(name=JOB).exists(), output[-2000:]
    assert state().runs == 0 and state().last_run_at is None

    automation_set(enabled=True)
    for name in jobs:
        if name != JOB:
            automation_set(enabled=False, job=name)
    consumer = start_consumer()
    try:
        wait_for(lambda: TaskRun.objects.filter(name=JOB, status__in=[TaskStatus.SUCCEEDED, TaskStatus.FAILED]).exists(),
                 f"the consumer to run {JOB}")
    finally:
        output = stop_consumer(consumer)
    runs = list(TaskRun.objects.filter(name=JOB))
    assert len(runs) == 1, output[-2000:]
    assert runs[0].status == TaskStatus.SUCCEEDED and runs[0].organization_id is None and runs[0].huey_task_id
    assert runs[0].result == {"armed": 0, "fired": 0, "unpriced": 0}
    final = state()
    assert final.runs == 1 and final.last_outcome == "SUCCEEDED" and final.last_task_run_id == runs[0].pk
    # The paused jobs were judged too and ran nothing.
    assert not TaskRun.objects.filter(name__in=["wallet_monitor", "sends_reconcile"]).exists()
