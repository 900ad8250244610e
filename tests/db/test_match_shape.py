"""core.mongodb.match_shape: the flattened `$match` means exactly what the ORM's `$and` meant
(checked against a small evaluator of the operators over random documents), and the project's
engine sends the flat shape for real filtered queries, which return the same rows."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from core.mongodb.match_shape import flatten_match, split_index_served

FIELDS = ("a", "b", "c")
OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in")


def _holds(document: dict, condition: dict) -> bool:
    for key, value in condition.items():
        if key == "$and":
            if not all(_holds(document, child) for child in value):
                return False
        elif key == "$or":
            if not any(_holds(document, child) for child in value):
                return False
        elif isinstance(value, dict) and value and all(k.startswith("$") for k in value):
            field = document.get(key)
            for operator, operand in value.items():
                if not _compare(field, operator, operand):
                    return False
        elif document.get(key) != value:
            return False
    return True


def _compare(field, operator, operand) -> bool:
    if operator == "$eq":
        return field == operand
    if operator == "$ne":
        return field != operand
    if operator == "$in":
        return field in operand
    if field is None:
        return False
    return {"$gt": field > operand, "$gte": field >= operand, "$lt": field < operand, "$lte": field <= operand}[operator]


values = st.integers(0, 4)
leaf = st.one_of(
    st.builds(lambda f, v: {f: v}, st.sampled_from(FIELDS), values),
    st.builds(lambda f, ops: {f: ops}, st.sampled_from(FIELDS),
              st.dictionaries(st.sampled_from(OPERATORS), values, min_size=1, max_size=2).map(
                  lambda d: {k: ([v, v + 1] if k == "$in" else v) for k, v in d.items()})),
)
conditions = st.recursive(leaf, lambda children: st.one_of(
    st.lists(children, min_size=1, max_size=4).map(lambda c: {"$and": c}),
    st.lists(children, min_size=1, max_size=3).map(lambda c: {"$or": c}),
), max_leaves=8)
documents = st.fixed_dictionaries({f: st.one_of(st.none(), values) for f in FIELDS})


@settings(max_examples=400, deadline=None)
@given(st.lists(conditions, min_size=1, max_size=5), st.lists(documents, min_size=1, max_size=12))
def test_flattening_keeps_the_meaning(parts, docs):
    match = {"$and": parts}
    flat = flatten_match(match)
    for document in docs:
        assert _holds(document, flat) == _holds(document, match), (match, flat, document)


def test_the_shapes_it_makes():
    assert flatten_match({"$and": [{"org": 1}, {"d": {"$gte": 2}}, {"d": {"$lt": 5}}]}) == \
        {"org": 1, "d": {"$gte": 2, "$lt": 5}}
    assert flatten_match({"$and": [{"org": 1}, {"$and": [{"u": 2}, {"w": {"$in": [3]}}]}]}) == \
        {"org": 1, "u": 2, "w": {"$in": [3]}}
    # Same operator twice, a value twice, and top-level operators stay in a residual $and.
    assert flatten_match({"$and": [{"d": {"$gte": 1}}, {"d": {"$gte": 2}}]}) == \
        {"d": {"$gte": 1}, "$and": [{"d": {"$gte": 2}}]}
    assert flatten_match({"$and": [{"a": 1}, {"a": 2}]}) == {"a": 1, "$and": [{"a": 2}]}
    assert flatten_match({"$and": [{"a": 1}, {"$or": [{"b": 1}, {"c": 1}]}]}) == \
        {"a": 1, "$and": [{"$or": [{"b": 1}, {"c": 1}]}]}
    assert flatten_match({"a": 1}) == {"a": 1}


@pytest.mark.django_db
def test_the_engine_sends_flat_filters_and_finds_the_same_rows(organization, make_user):
    from core.models import TaskRun

    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    TaskRun.objects.bulk_create([TaskRun(name=f"job-{i % 3}", organization=organization,
                                         started_at=start + dt.timedelta(hours=i)) for i in range(30)])
    window = TaskRun.objects.filter(organization=organization, started_at__gte=start + dt.timedelta(hours=5),
                                    started_at__lt=start + dt.timedelta(hours=20), name="job-1")
    with CaptureQueriesContext(connection) as queries:
        rows = list(window.order_by("-started_at")[:50])
    sent = queries.captured_queries[-1]["sql"]
    assert "$and" not in sent and "'started_at': {'$gte'" in sent, sent
    hours = sorted(int((row.started_at - start).total_seconds() // 3600) for row in rows)
    assert hours == [h for h in range(5, 20) if h % 3 == 1]
    assert window.count() == len(hours)
    # Updates and deletes go through the same compilers.
    assert window.update(message="seen") == len(hours)
    assert TaskRun.objects.filter(organization=organization, message="seen").count() == len(hours)
    assert window.delete()[0] == len(hours)


INDEXES = [("a", "b"), ("c",)]


@settings(max_examples=400, deadline=None)
@given(st.lists(conditions, min_size=1, max_size=5), st.lists(documents, min_size=1, max_size=12))
def test_the_served_part_and_the_rest_together_keep_the_meaning(parts, docs):
    match = flatten_match({"$and": parts})
    served, residual = split_index_served(match, INDEXES)
    for document in docs:
        together = _holds(document, served) and (residual is None or _holds(document, residual))
        assert together == _holds(document, match), (match, served, residual, document)


def test_the_served_part_is_what_one_index_answers():
    # Equalities on a leading prefix, then one range: the rest is left for the next stage.
    assert split_index_served({"a": 1, "b": {"$gte": 2}, "x": 3}, INDEXES) == ({"a": 1, "b": {"$gte": 2}}, {"x": 3})
    assert split_index_served({"a": 1, "b": {"$gte": 2}, "$and": [{"$or": [{"x": 1}, {"y": 1}]}]}, INDEXES) == \
        ({"a": 1, "b": {"$gte": 2}}, {"$and": [{"$or": [{"x": 1}, {"y": 1}]}]})
    # A range ends the served prefix; a second index field after it is not served.
    assert split_index_served({"a": {"$gt": 1}, "b": 2}, INDEXES) == ({"a": {"$gt": 1}}, {"b": 2})
    # The index serving more conditions wins; an `_id` equality is a point lookup whatever else.
    assert split_index_served({"c": 1, "a": 1, "b": 2, "x": 0}, INDEXES) == ({"a": 1, "b": 2}, {"c": 1, "x": 0})
    assert split_index_served({"_id": 7, "a": 1, "b": 2}, INDEXES) == ({"_id": 7}, {"a": 1, "b": 2})
    # A unique key with every field equal is a point lookup: it wins over a range on a longer index
    # (a session's key beside its expiry), and more equalities win a tie.
    match = {"k": "abc", "e": {"$gt": 1}}
    assert split_index_served(match, [("e",), ("k",)], frozenset({("k",)})) == ({"k": "abc"}, {"e": {"$gt": 1}})
    assert split_index_served({"o": 1, "d": {"$gte": 0}, "p": 2}, [("o", "d"), ("o", "p")]) == \
        ({"o": 1, "p": 2}, {"d": {"$gte": 0}})
    # A range's bounds are served, the operators beside them left (the backend's $exists/$ne).
    assert split_index_served({"a": 1, "b": {"$lte": 5, "$exists": True, "$ne": None, "$gte": 1}, "x": 2}, INDEXES) == \
        ({"a": 1, "b": {"$lte": 5, "$gte": 1}}, {"b": {"$exists": True, "$ne": None}, "x": 2})
    # Not split: one index answers all of it, none answers any of it, or an operator the index
    # cannot walk ($ne, $exists, two `$in`s in one document).
    assert split_index_served({"a": 1, "b": {"$lt": 3}}, INDEXES) == ({"a": 1, "b": {"$lt": 3}}, None)
    assert split_index_served({"x": 1, "y": 2}, INDEXES) == ({"x": 1, "y": 2}, None)
    assert split_index_served({"a": {"$ne": 1}, "x": 2}, INDEXES) == ({"a": {"$ne": 1}, "x": 2}, None)
    assert split_index_served({"a": 1, "b": {"$in": [1], "$gt": 0}, "x": 2}, INDEXES) == \
        ({"a": 1, "b": {"$gt": 0}}, {"b": {"$in": [1]}, "x": 2})
    assert split_index_served({"a": 1, "b": {"$ne": 1}, "x": 2}, INDEXES) == ({"a": 1}, {"b": {"$ne": 1}, "x": 2})


@pytest.mark.django_db
def test_a_filtered_window_sends_the_indexed_part_as_its_own_first_stage(make_user):
    from django.db.models import Q
    from django.utils import timezone

    from accounts.models import Notification
    from core.mongodb.compiler import model_index_keys

    assert ("user_id", "created_at") in model_index_keys(Notification)[0]
    person = make_user()
    now = timezone.now()
    made = Notification.objects.bulk_create([
        Notification(user=person, title=f"n{i}", message="m", is_read=i % 2 == 0,
                     expires_at=(now - dt.timedelta(days=1)) if i % 5 == 0 else None) for i in range(20)])
    visible = Notification.objects.filter(user=person, created_at__gte=now - dt.timedelta(days=1)).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now), is_read=False)
    with CaptureQueriesContext(connection) as queries:
        rows = list(visible.order_by("-created_at", "-id")[:50])
    sent = queries.captured_queries[-1]["sql"]
    first, second = sent.split("{'$match': ")[1:3]
    assert first.startswith("{'user_id': ObjectId(") and "'created_at': {'$gte'" in first and "is_read" not in first
    assert "'is_read': False" in second and "$or" in second
    expected = {n.pk for i, n in enumerate(made) if i % 2 == 1 and i % 5 != 0}
    assert {row.pk for row in rows} == expected and len(rows) == 8


@pytest.mark.django_db
def test_a_cursor_page_sends_its_date_bounds_in_the_first_stage(make_user):
    from accounts.models import Notification
    from accounts.selectors import notification_list_visible
    from core.windows import newest_first_rows

    person = make_user()
    made = Notification.objects.bulk_create([Notification(user=person, title=f"n{i}", message="m") for i in range(12)])
    newest_first = sorted(made, key=lambda n: (n.created_at, n.pk), reverse=True)
    cursor = newest_first[4]
    with CaptureQueriesContext(connection) as queries:
        rows = newest_first_rows(notification_list_visible(user=person), date_field="created_at",
                                 scope=Notification.time_index_scope, owner_id=person.pk, limit=3,
                                 after=(cursor.created_at, cursor.pk))
    assert [row.pk for row in rows] == [n.pk for n in newest_first[5:9]]
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("db.notifications.aggregate")]
    first_stage = reads[0].split("{'$match': ")[1]
    # The window's bounds ride the index; the backend's $exists/$ne and the tie-break wait for stage two.
    assert "'created_at': {'$lte'" in first_stage and "$or" not in first_stage and "$exists" not in first_stage, reads[0]
