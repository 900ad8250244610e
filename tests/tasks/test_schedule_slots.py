"""One run per schedule slot across consumers (core.scheduling): each consumer's scheduler enqueues a
periodic job, and only the first run of a slot (the latest matching minute) does the work; the next
slot runs again. `cron.latest_at_or_before` agrees with a minute-by-minute search."""

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from core import scheduling
from core.models import AutomationState, TaskRun
from core.scheduling import JOBS, cron, jobs_discover

SCHEDULES = [cron(), cron(minute="*/10"), cron(minute="40", hour="3"), cron(minute="20", hour="3"),
             cron(minute="0", hour="*/6"), cron(minute="5", hour="9", day_of_week="1-5"),
             cron(minute="0", hour="0", day="1")]


def brute_latest(schedule, when, horizon_minutes=31 * 24 * 60):
    moment = when.replace(second=0, microsecond=0)
    for _ in range(horizon_minutes):
        if schedule(moment):
            return moment
        moment -= dt.timedelta(minutes=1)
    return None


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SCHEDULES), st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 1, 1)))
def test_latest_slot_is_the_last_matching_minute(schedule, when):
    latest = schedule.latest_at_or_before(when)
    assert latest == brute_latest(schedule, when)
    if latest is not None:
        assert schedule.next_after(latest - dt.timedelta(minutes=1)) == latest


@pytest.mark.django_db
def test_a_slot_runs_once_whoever_enqueues_it(monkeypatch):
    jobs_discover()
    job = JOBS["price_alerts"]  # every minute; harmless with no alert
    now = {"value": dt.datetime(2026, 12, 2, 10, 15, 7, tzinfo=dt.timezone.utc)}
    monkeypatch.setattr(scheduling.timezone, "now", lambda: now["value"])

    job.task()  # consumer 1's scheduler (huey immediate: runs here, as the scheduled path)
    now["value"] += dt.timedelta(seconds=20)
    job.task()  # consumer 2's, same minute
    assert TaskRun.objects.filter(name="price_alerts").count() == 1
    state = AutomationState.objects.get(job="price_alerts")
    assert state.runs == 1 and state.last_slot == dt.datetime(2026, 12, 2, 10, 15, tzinfo=dt.timezone.utc)

    now["value"] += dt.timedelta(minutes=1)
    job.task()  # the next slot
    job.task()
    assert TaskRun.objects.filter(name="price_alerts").count() == 2
    assert AutomationState.objects.get(job="price_alerts").runs == 2

    # Asked for now (run-tasks, the system page): not a scheduled run, the slot does not hold it back.
    scheduling.job_enqueue("price_alerts")
    assert TaskRun.objects.filter(name="price_alerts").count() == 3


@pytest.mark.django_db
def test_a_stopped_job_claims_no_slot(monkeypatch):
    jobs_discover()
    job = JOBS["price_alerts"]
    moment = dt.datetime(2026, 12, 2, 11, 0, 30, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(scheduling.timezone, "now", lambda: moment)
    scheduling.automation_set(enabled=False, job="price_alerts")
    job.task()
    scheduling.automation_set(enabled=True, job="price_alerts")
    job.task()  # started again within the same minute: the slot was never taken
    assert TaskRun.objects.filter(name="price_alerts").count() == 1
