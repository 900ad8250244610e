"""Ended rate-limit windows are deleted every hour by a periodic task (the collection would otherwise
grow with every auth request)."""

import datetime as dt

import pytest
from django.utils import timezone
from huey.api import PeriodicTask

from accounts.models import RateLimitCounter
from accounts.tasks import rate_limit_counters_prune_hourly

pytestmark = pytest.mark.django_db


def test_the_prune_is_a_periodic_task_of_the_consumer():
    from huey.contrib.djhuey import HUEY

    assert isinstance(rate_limit_counters_prune_hourly.task_class(), PeriodicTask)
    due_at_41 = {type(task) for task in HUEY.read_periodic(dt.datetime(2026, 12, 1, 9, 41))}
    due_at_42 = {type(task) for task in HUEY.read_periodic(dt.datetime(2026, 12, 1, 9, 42))}
    assert rate_limit_counters_prune_hourly.task_class in due_at_41
    assert rate_limit_counters_prune_hourly.task_class not in due_at_42


def test_it_deletes_only_ended_windows():
    now = timezone.now()
    RateLimitCounter.objects.create(key="login:ip:old", count=3, window_ends_at=now - dt.timedelta(minutes=5))
    RateLimitCounter.objects.create(key="login:ip:live", count=1, window_ends_at=now + dt.timedelta(seconds=30))
    result = rate_limit_counters_prune_hourly.call_local()
    assert result == {"deleted": 1}
    assert list(RateLimitCounter.objects.values_list("key", flat=True)) == ["login:ip:live"]
