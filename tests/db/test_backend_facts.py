"""Backend facts our code relies on, beyond test_backend_conformance.py (which already covers the
basic atomic commit/rollback, compare-and-set from threads, date ranges and slices).

Written to hold on the embedded SecantusDB server and on a real MongoDB replica set
(MONGODB_URI=... pytest tests/db): the only server-specific asserts are the SecantusDB defects,
which are switched on by what the server itself reports (`buildInfo.secantusVersion`).
"""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from bson import Decimal128
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, connections
from django.db import transaction as django_transaction
from django.db.models import F, Sum
from django.utils import timezone
from django_mongodb_backend.transaction import atomic, on_commit

from core.models import TaskRun, TaskStatus
from tests import harness
from wallets.models import Cryptocurrency, Transaction, TransactionType, Wallet

pytestmark = pytest.mark.django_db

BIGGEST_TOKEN_AMOUNT = Decimal("9999999999999999.999999999999999999")  # 16 integer digits + 18 decimals
SMALLEST_TOKEN_AMOUNT = Decimal("0.000000000000000001")  # 1 wei


def server_build_info() -> dict:
    return connection.database.client.admin.command("buildInfo")


def server_is_secantus() -> bool:
    """SecantusDB answers buildInfo like MongoDB 8.2 but adds `secantusVersion`; fall back to the
    harness's choice if a future version stops doing so."""
    info = server_build_info()
    return "secantusVersion" in info or (harness.USE_EMBEDDED_MONGODB and "secantus" in str(info).lower())


@pytest.fixture
def wallet(make_user):
    user = make_user()
    return Wallet.objects.create(name="w", address="0x" + "2" * 40, user=user, organization=user.organization,
                                 wallet_type="MetaMask")


@pytest.fixture
def eth():
    return Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")


def tx(wallet, eth, amount, **fields):
    fields.setdefault("organization_id", wallet.organization_id)
    return Transaction(
        transaction_type=TransactionType.BUY, wallet=wallet, cryptocurrency=eth, amount=amount,
        transaction_date=fields.pop("transaction_date", timezone.now()), **fields,
    )


def raw(model, pk) -> dict:
    return connection.get_collection(model._meta.db_table).find_one({"_id": pk})


def in_other_thread(fn):
    """Run fn on a fresh connection in another thread (what a second request or worker sees)."""
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=15)
    assert not thread.is_alive(), "other thread hung"
    if "error" in box:
        raise box["error"]
    return box["value"]


# --- Decimal128 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("amount", [SMALLEST_TOKEN_AMOUNT, BIGGEST_TOKEN_AMOUNT, -BIGGEST_TOKEN_AMOUNT])
def test_token_amount_is_stored_as_decimal128_and_read_back_exactly(wallet, eth, amount):
    row = tx(wallet, eth, amount)
    row.save()
    document = raw(Transaction, row.pk)
    assert isinstance(document["amount"], Decimal128)  # not a double, not a string
    assert document["amount"].to_decimal() == amount
    stored = Transaction.objects.get(pk=row.pk).amount
    assert isinstance(stored, Decimal)
    assert stored == amount and str(stored.normalize()) == str(amount.normalize())


def test_sum_of_a_thousand_tenths_is_exactly_one_hundred(wallet, eth):
    Transaction.objects.bulk_create([tx(wallet, eth, Decimal("0.1")) for _ in range(1000)])
    total = Transaction.objects.aggregate(total=Sum("amount"))["total"]
    assert isinstance(total, Decimal)
    assert total == Decimal("100")
    assert sum([0.1] * 1000) != 100  # what a float column would have given


def test_sum_keeps_wei_next_to_the_largest_amount(wallet, eth):
    Transaction.objects.bulk_create([tx(wallet, eth, Decimal("1000000000000000")),
                                     tx(wallet, eth, SMALLEST_TOKEN_AMOUNT)])
    total = Transaction.objects.aggregate(total=Sum("amount"))["total"]
    assert total == Decimal("1000000000000000.000000000000000001")  # 34 significant digits


def test_f_expression_update_on_a_decimal_is_exact(wallet, eth):
    row = tx(wallet, eth, Decimal("0.1"))
    row.save()
    for _ in range(10):
        Transaction.objects.filter(pk=row.pk).update(amount=F("amount") + Decimal("0.2"))
    assert Transaction.objects.get(pk=row.pk).amount == Decimal("2.1")


# --- unique indexes --------------------------------------------------------------------------------
def test_duplicate_of_an_existing_row_in_bulk_create_raises_integrity_error_after_earlier_rows():
    """The backend inserts in order and stops at the duplicate (ordered insert_many): rows before it
    are written, rows after it are not. Imports must therefore be idempotent by external_id."""
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    with pytest.raises(IntegrityError) as excinfo:
        Cryptocurrency.objects.bulk_create([
            Cryptocurrency(name="Before", symbol="BEFORE"),
            Cryptocurrency(name="Dup", symbol="ETH"),
            Cryptocurrency(name="After", symbol="AFTER"),
        ])
    assert isinstance(excinfo.value, DatabaseError)
    assert set(Cryptocurrency.objects.values_list("symbol", flat=True)) == {"ETH", "BEFORE"}


def test_integrity_error_leaves_the_connection_usable():
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    with pytest.raises(IntegrityError):
        Cryptocurrency.objects.create(name="Again", symbol="ETH")
    Cryptocurrency.objects.create(name="Bitcoin", symbol="BTC")
    assert Cryptocurrency.objects.count() == 2


def test_null_external_ids_do_not_collide_on_single_saves(wallet, eth):
    first = tx(wallet, eth, Decimal(1), external_id=None)
    first.save()
    second = tx(wallet, eth, Decimal(2), external_id=None)
    second.save()  # no IntegrityError: the unique index is partial (strings only)
    assert raw(Transaction, first.pk)["external_id"] is None
    assert Transaction.objects.filter(external_id__isnull=True).count() == 2
    tx(wallet, eth, Decimal(3), external_id="demo:1").save()
    with pytest.raises(IntegrityError):
        tx(wallet, eth, Decimal(4), external_id="demo:1").save()
    assert Transaction.objects.count() == 3


# --- transactions ----------------------------------------------------------------------------------
def test_atomic_writes_are_invisible_to_others_until_commit():
    seen_inside = []
    with atomic():
        TaskRun.objects.create(name="tx-a")
        Cryptocurrency.objects.create(name="Tx", symbol="TXA")
        seen_inside.append(in_other_thread(lambda: TaskRun.objects.filter(name="tx-a").count()))
        assert TaskRun.objects.filter(name="tx-a").count() == 1  # own writes are visible
    assert seen_inside == [0]
    assert in_other_thread(lambda: (TaskRun.objects.filter(name="tx-a").count(),
                                    Cryptocurrency.objects.filter(symbol="TXA").count())) == (1, 1)


def test_atomic_rolls_back_writes_to_two_collections_and_an_update():
    run = TaskRun.objects.create(name="before")
    with pytest.raises(ZeroDivisionError), atomic():
        Cryptocurrency.objects.create(name="Gone", symbol="GONE")
        TaskRun.objects.filter(pk=run.pk).update(status=TaskStatus.FAILED)
        1 / 0
    assert not Cryptocurrency.objects.exists()
    assert TaskRun.objects.get(pk=run.pk).status == TaskStatus.QUEUED


def test_integrity_error_inside_atomic_rolls_back_the_earlier_write():
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    with pytest.raises(IntegrityError), atomic():
        TaskRun.objects.create(name="orphan")
        Cryptocurrency.objects.create(name="Dup", symbol="ETH")
    assert not TaskRun.objects.filter(name="orphan").exists()


def test_on_commit_sees_committed_data_and_waits_for_the_outermost_block():
    calls = []

    def callback():
        # Runs after commit: the write is visible from another connection.
        calls.append(in_other_thread(lambda: TaskRun.objects.filter(name="oc").count()))

    with atomic():
        with atomic():
            TaskRun.objects.create(name="oc")
            on_commit(callback)
        assert calls == []  # the inner block's exit is not a commit
    assert calls == [1]


def test_on_commit_never_runs_after_rollback_even_when_registered_in_a_nested_block():
    calls = []
    with pytest.raises(RuntimeError), atomic():
        with atomic():
            on_commit(lambda: calls.append("inner"))
        on_commit(lambda: calls.append("outer"))
        raise RuntimeError("roll back")
    assert calls == []
    with atomic():
        on_commit(lambda: calls.append("next"))
    assert calls == ["next"]  # the discarded callbacks do not leak into the next transaction


def test_djangos_atomic_keeps_both_writes_before_the_exception():
    """django.db.transaction.atomic is a no-op on this backend: nothing is rolled back."""
    with pytest.raises(RuntimeError), django_transaction.atomic():
        TaskRun.objects.create(name="kept-1")
        Cryptocurrency.objects.create(name="Kept", symbol="KEPT")
        raise RuntimeError
    assert TaskRun.objects.filter(name="kept-1").exists()
    assert Cryptocurrency.objects.filter(symbol="KEPT").exists()


# --- compare-and-set -------------------------------------------------------------------------------
def test_update_returns_matched_rows_even_when_nothing_changes():
    """Django's contract (rows matched, not modified): a no-op update still reports 1, so code must
    put the expected old value in the filter, as the compare-and-set does."""
    run = TaskRun.objects.create(name="same", status=TaskStatus.RUNNING)
    assert TaskRun.objects.filter(pk=run.pk).update(status=TaskStatus.RUNNING) == 1
    assert TaskRun.objects.filter(pk=run.pk, status=TaskStatus.QUEUED).update(status=TaskStatus.RUNNING) == 0


def test_compare_and_set_under_eight_threads_for_each_of_three_runs():
    runs = [TaskRun.objects.create(name=f"race-{n}") for n in range(3)]
    barrier = threading.Barrier(8)
    wins = {run.pk: [] for run in runs}
    lock = threading.Lock()

    def claim():
        try:
            barrier.wait(timeout=10)
            for run in runs:
                got = TaskRun.objects.filter(pk=run.pk, status=TaskStatus.QUEUED).update(status=TaskStatus.RUNNING)
                with lock:
                    wins[run.pk].append(got)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert {pk: sorted(results) for pk, results in wins.items()} == {run.pk: [0] * 7 + [1] for run in runs}
    assert set(TaskRun.objects.values_list("status", flat=True)) == {TaskStatus.RUNNING}


# --- defect 1 (values across a relation) -------------------------------------------------------------
def test_annotate_f_gives_the_app_label_for_several_apps():
    rows = Permission.objects.filter(codename__in=["view_taskrun", "view_wallet", "view_group"]).annotate(
        app=F("content_type__app_label"))
    assert {(p.codename, p.app) for p in rows} == {
        ("view_taskrun", "core"), ("view_wallet", "wallets"), ("view_group", "auth")}


def test_values_list_across_a_relation_is_wrong_only_on_secantusdb():
    labels = list(Permission.objects.filter(codename="view_taskrun").values_list("content_type__app_label", flat=True))
    if server_is_secantus():
        assert labels != ["core"], "SecantusDB defect 1 fixed? drop the workarounds in stack.md"
    else:
        assert labels == ["core"]


def test_group_permissions_reach_the_user_through_the_project_auth_backend(make_user):
    group = Group.objects.create(name="task viewers")
    group.permissions.add(Permission.objects.get(codename="view_taskrun"))
    user = make_user()
    user.groups.add(group)
    user = type(user).objects.get(pk=user.pk)  # fresh permission cache
    assert user.has_perm("core.view_taskrun")
    assert not user.has_perm("core.change_taskrun")


# --- dates, ordering, slicing ------------------------------------------------------------------------
def test_datetimes_keep_milliseconds_only():
    """BSON dates have millisecond precision: microseconds are truncated on the way in, so ties in
    auto_now_add timestamps are common and every paginated ordering needs a unique tie-breaker."""
    moment = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
    run = TaskRun.objects.create(name="ms")
    TaskRun.objects.filter(pk=run.pk).update(started_at=moment)
    assert TaskRun.objects.get(pk=run.pk).started_at == moment.replace(microsecond=123000)


def test_date_range_boundaries_and_timezone(wallet, eth):
    paris = dt.timezone(dt.timedelta(hours=1))
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    Transaction.objects.bulk_create(
        [tx(wallet, eth, Decimal(h), transaction_date=base + dt.timedelta(hours=h)) for h in range(48)])
    # an aware bound in another zone means the same instant: 2026-01-01T01:00+01:00 == 00:00Z
    start = dt.datetime(2026, 1, 1, 1, 0, tzinfo=paris)
    assert Transaction.objects.filter(transaction_date__gte=start, transaction_date__lt=start + dt.timedelta(days=1)).count() == 24
    inclusive = Transaction.objects.filter(transaction_date__range=(base + dt.timedelta(hours=10), base + dt.timedelta(hours=12)))
    assert sorted(int(t.amount) for t in inclusive) == [10, 11, 12]
    assert Transaction.objects.filter(transaction_date__lte=base).count() == 1
    assert Transaction.objects.filter(transaction_date__gt=base + dt.timedelta(hours=47)).count() == 0


def test_limit_offset_pages_cover_every_row_once_with_tied_timestamps():
    """The task-runs API pages with order_by("-created_at", "-id"): rows sharing a timestamp must
    neither repeat nor vanish across pages."""
    same = timezone.now()
    TaskRun.objects.bulk_create([TaskRun(name=f"r{n}") for n in range(23)])
    TaskRun.objects.update(created_at=same)
    queryset = TaskRun.objects.order_by("-created_at", "-id")
    pages = [list(queryset[offset:offset + 5]) for offset in range(0, 25, 5)]
    ids = [run.pk for page in pages for run in page]
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert len(set(ids)) == 23 and ids == sorted(ids, reverse=True)


def test_filtered_ordered_sliced_query_returns_the_right_rows(wallet, eth):
    base = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    Transaction.objects.bulk_create([
        tx(wallet, eth, Decimal(n), transaction_date=base + dt.timedelta(days=n),
           status="FAILED" if n % 3 == 0 else "CONFIRMED")
        for n in range(20)])
    rows = Transaction.objects.filter(status="CONFIRMED").order_by("-transaction_date")[2:5]
    assert [int(t.amount) for t in rows] == [16, 14, 13]
    assert Transaction.objects.filter(status="CONFIRMED").order_by("amount").first().amount == 1
    assert Transaction.objects.filter(status="CONFIRMED").order_by("amount").last().amount == 19


# --- malformed ObjectId ----------------------------------------------------------------------------
def test_malformed_object_id_raises_validation_error_when_the_filter_is_built():
    """Recorded: django.core.exceptions.ValidationError, code "invalid", params {"value": "nope"},
    message '“nope” is not a valid Object Id.'; raised by .filter() itself (before any query), not a
    DatabaseError, not ValueError, not DoesNotExist."""
    with pytest.raises(ValidationError) as excinfo:
        TaskRun.objects.filter(pk="nope")
    error = excinfo.value
    assert type(error) is ValidationError
    assert not isinstance(error, (DatabaseError, ValueError, TaskRun.DoesNotExist))
    assert error.code == "invalid" and error.params == {"value": "nope"}
    assert error.messages == ["“nope” is not a valid Object Id."]
    with pytest.raises(ValidationError):
        TaskRun.objects.get(pk="0" * 23)  # one hex digit short
    with pytest.raises(TaskRun.DoesNotExist):
        TaskRun.objects.get(pk="0" * 24)  # well-formed but absent


# --- change streams --------------------------------------------------------------------------------
def test_change_stream_delivers_an_orm_insert():
    """The relay depends on it. How fast is measured in bench/ (~4 ms); here the deadline is generous."""
    collection = connection.get_collection(TaskRun._meta.db_table)
    with collection.watch(max_await_time_ms=100) as stream:
        started = time.monotonic()
        run = TaskRun.objects.create(name="watched")
        change = None
        while change is None and time.monotonic() - started < 120:
            change = stream.try_next()
    assert change is not None, "no change event for the insert within 120 s"
    assert change["operationType"] == "insert"
    assert change["documentKey"]["_id"] == run.pk
    assert change["fullDocument"]["name"] == "watched"
    assert change["fullDocument"]["status"] == TaskStatus.QUEUED


def test_change_stream_delivers_an_orm_update():
    run = TaskRun.objects.create(name="to update")
    collection = connection.get_collection(TaskRun._meta.db_table)
    with collection.watch([{"$match": {"operationType": "update"}}], max_await_time_ms=100) as stream:
        TaskRun.objects.filter(pk=run.pk).update(progress=42)
        deadline = time.monotonic() + 3
        change = None
        while change is None and time.monotonic() < deadline:
            change = stream.try_next()
    assert change is not None
    assert change["documentKey"]["_id"] == run.pk
    assert change["updateDescription"]["updatedFields"]["progress"] == 42
