"""NewestFirstWindow pagination over the time index (core.time_index): walking pages by cursor gives
every row once, newest first (ties on the date broken by id), whatever the counts say (missing,
too high, too low) and under a filter; with counts the first page asks for a bounded window; a
cursor the API did not make is invalid input; a rebuild recounts from the data."""

import datetime as dt
import random

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from core import time_index
from core.errors import InvalidInput
from core.jsonapi.pagination import NewestFirstWindow, cursor_encode
from core.models import TaskRun

pytestmark = pytest.mark.django_db
SCOPE = "test-task-runs"
START = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def runs(organization):
    rng = random.Random(7)
    moments = []
    for day in range(40):
        for _ in range(rng.choice([0, 1, 3, 8])):
            moments.append(START + dt.timedelta(days=day, hours=rng.choice([1, 5, 5, 9])))  # ties on purpose
    TaskRun.objects.bulk_create([TaskRun(name=f"job-{i % 3}", organization=organization, started_at=m)
                                 for i, m in enumerate(moments)])
    time_index.time_index_ensure()
    return list(TaskRun.objects.filter(organization=organization).order_by("-started_at", "-id"))


class _Request:
    def __init__(self, user, params):
        self._factory = RequestFactory().get("/api/x/", params)
        self.user, self.auth, self.GET, self.path = user, user, self._factory.GET, "/api/x/"

    def build_absolute_uri(self, location):
        return f"http://testserver{location}"


def _walk(queryset, user, limit):
    paginator = NewestFirstWindow(date_field="started_at", scope=SCOPE)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = paginator.paginate_queryset(queryset, NewestFirstWindow.Input(**params), _Request(user, params))
        seen.extend(row.pk for row in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, pages
        assert "cursor=" in page["next"] and "offset" not in page["next"]


def _ordered(queryset):
    return queryset.order_by("-started_at", "-id")


@pytest.mark.parametrize("counts", ["exact", "missing", "too_high", "too_low"])
def test_walking_by_cursor_gives_every_row_once_in_order(runs, organization, make_user, counts):
    user = make_user(role="MANAGER")
    if counts != "missing":
        time_index.time_index_rebuild(scope=SCOPE, collection="task_runs", date_field="started_at",
                                      organization_id=organization.pk)
    if counts in ("too_high", "too_low"):
        sign = 1 if counts == "too_high" else -1
        time_index.time_index_add(scope=SCOPE, organization_id=organization.pk,
                                  moments=[START + dt.timedelta(days=d) for d in range(0, 40, 2)] * 5, sign=sign)
    queryset = _ordered(TaskRun.objects.filter(organization=organization))
    for limit in (1, 7, 50):
        seen, pages = _walk(queryset, user, limit)
        assert seen == [row.pk for row in runs]
        assert pages == max(1, -(-len(runs) // limit))  # no empty last page: one row more is read


def test_a_filtered_walk(runs, organization, make_user):
    time_index.time_index_rebuild(scope=SCOPE, collection="task_runs", date_field="started_at",
                                  organization_id=organization.pk)
    queryset = _ordered(TaskRun.objects.filter(organization=organization, name="job-1"))
    seen, _ = _walk(queryset, make_user(role="MANAGER"), 5)
    assert seen == [row.pk for row in runs if row.name == "job-1"]


def test_the_first_page_is_a_bounded_window(runs, organization, make_user):
    time_index.time_index_rebuild(scope=SCOPE, collection="task_runs", date_field="started_at",
                                  organization_id=organization.pk)
    user = make_user(role="MANAGER")
    paginator = NewestFirstWindow(date_field="started_at", scope=SCOPE)
    queryset = _ordered(TaskRun.objects.filter(organization=organization))
    with CaptureQueriesContext(connection) as queries:
        page = paginator.paginate_queryset(queryset, NewestFirstWindow.Input(limit=5), _Request(user, {"limit": 5}))
    assert [row.pk for row in page["items"]] == [row.pk for row in runs[:5]]
    fetch = [q["sql"] for q in queries.captured_queries if "task_runs" in q["sql"]]
    assert len(fetch) == 1 and "'$gte'" in fetch[0] and "$and" not in fetch[0].split("$or")[0], fetch
    # The window starts at the newest day from which the counts reach 6 rows, not earlier.
    newest_days = sorted({row.started_at.date() for row in runs}, reverse=True)
    per_day = {day: sum(1 for row in runs if row.started_at.date() == day) for day in newest_days}
    total, bound = 0, None
    for day in newest_days:
        total += per_day[day]
        if total >= 6:
            bound = day
            break
    assert f"datetime.datetime({bound.year}, {bound.month}, {bound.day}, 0, 0" in fetch[0]


def test_offset_and_other_orders_keep_working(runs, organization, make_user):
    user = make_user(role="MANAGER")
    paginator = NewestFirstWindow(date_field="started_at", scope=SCOPE)
    queryset = _ordered(TaskRun.objects.filter(organization=organization))
    page = paginator.paginate_queryset(queryset, NewestFirstWindow.Input(limit=5, offset=5),
                                       _Request(user, {"limit": 5, "offset": 5}))
    assert [row.pk for row in page["items"]] == [row.pk for row in runs[5:10]] and "offset=10" in page["next"]
    by_name = TaskRun.objects.filter(organization=organization).order_by("name", "id")
    page = paginator.paginate_queryset(by_name, NewestFirstWindow.Input(limit=5), _Request(user, {"limit": 5}))
    assert [row.pk for row in page["items"]] == [row.pk for row in by_name[:5]]


@pytest.mark.parametrize("counts", ["exact", "missing", "too_high"])
def test_offset_pages_are_windows_and_give_every_row_once(runs, organization, make_user, counts):
    """An offset page reads the window of the newest offset + limit + 1 rows (its cost grows with the
    offset, not with the history), and walking by offset gives every row once, whatever the counts."""
    user = make_user(role="MANAGER")
    if counts != "missing":
        time_index.time_index_rebuild(scope=SCOPE, collection="task_runs", date_field="started_at",
                                      organization_id=organization.pk)
    if counts == "too_high":
        time_index.time_index_add(scope=SCOPE, organization_id=organization.pk,
                                  moments=[START + dt.timedelta(days=d) for d in range(0, 40, 2)] * 5)
    paginator = NewestFirstWindow(date_field="started_at", scope=SCOPE)
    queryset = _ordered(TaskRun.objects.filter(organization=organization))
    seen, offset = [], 0
    while True:
        params = {"limit": 7, "offset": offset}
        with CaptureQueriesContext(connection) as queries:
            page = paginator.paginate_queryset(queryset, NewestFirstWindow.Input(**params), _Request(user, params))
        if counts == "exact" and offset + 8 <= len(runs):
            fetch = [q["sql"] for q in queries.captured_queries if "task_runs" in q["sql"]]
            assert len(fetch) == 1 and "'$gte'" in fetch[0], fetch
        seen.extend(row.pk for row in page["items"])
        if page["next"] is None:
            break
        # The first page's next is its cursor; an offset page's next goes on by offset.
        assert page["next_cursor"] and (f"offset={offset + 7}" in page["next"] if offset else "cursor=" in page["next"])
        offset += 7
    assert seen == [row.pk for row in runs]


def test_installation_wide_rows_are_counted_for_every_owner(organization):
    """Rows without an organization (a platform task run) are counted under no owner, so the total of
    every owner, which a platform superuser's admin list reads, holds them."""
    time_index.time_index_ensure()
    TaskRun.objects.create(name="platform", organization=None, started_at=START)
    TaskRun.objects.create(name="acme", organization=organization, started_at=START)
    total, _ = time_index.time_index_total(scope=TaskRun.time_index_scope, organization_id=time_index.EVERY_OWNER)
    assert total == TaskRun.objects.count()
    assert time_index.time_index_rebuild(scope=TaskRun.time_index_scope, collection="task_runs",
                                         date_field="created_at") >= 2
    assert time_index.time_index_total(scope=TaskRun.time_index_scope,
                                       organization_id=time_index.EVERY_OWNER)[0] == TaskRun.objects.count()
    assert time_index.time_index_total(scope=TaskRun.time_index_scope, organization_id=None)[0] == \
        TaskRun.objects.filter(organization=None).count()


@pytest.mark.parametrize("cursor", ["nonsense", "AAAA", cursor_encode(dt.datetime(2026, 1, 1), "x" * 24)[:-2] + "!!",
                                    "MjAyNi0wMS0wMVQwMDowMDowMHxub3RhbmlkCg"])
def test_a_foreign_cursor_is_invalid_input(organization, make_user, cursor):
    paginator = NewestFirstWindow(date_field="started_at", scope=SCOPE)
    with pytest.raises(InvalidInput) as caught:
        paginator.paginate_queryset(TaskRun.objects.order_by("-started_at", "-id"),
                                    NewestFirstWindow.Input(cursor=cursor),
                                    _Request(make_user(), {"cursor": cursor}))
    assert caught.value.code == "invalid_cursor"


def test_rebuild_counts_what_is_stored(runs, organization):
    days = time_index.time_index_rebuild(scope=SCOPE, collection="task_runs", date_field="started_at")
    stored = {doc["d"].date(): doc["n"] for doc in time_index._collection().find({"s": SCOPE, "o": organization.pk})}
    expected = {}
    for row in runs:
        expected[row.started_at.date()] = expected.get(row.started_at.date(), 0) + 1
    assert stored == expected and days == len(expected)
