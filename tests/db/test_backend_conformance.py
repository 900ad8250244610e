"""What our code relies on from the MongoDB backend, checked on the server in use (the embedded
SecantusDB by default, a real replica set when MONGODB_URI is set). Each test names the code that
depends on the behaviour."""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections
from django.db import transaction as django_transaction
from django.db.models import F, Sum
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django_mongodb_backend.transaction import atomic, on_commit

from core.models import TaskRun, TaskStatus
from tests import harness
from wallets.models import Cryptocurrency, Transaction, TransactionType, Wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def wallet(make_user):
    return Wallet.objects.create(name="w", address="0x" + "1" * 40, user=make_user(), wallet_type="MetaMask")


@pytest.fixture
def eth():
    return Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")


def tx(wallet, eth, amount, **fields):
    return Transaction(transaction_type=TransactionType.BUY, wallet=wallet, cryptocurrency=eth, amount=amount,
                       transaction_date=fields.pop("transaction_date", timezone.now()), **fields)


# --- Decimal128 (money is Decimal end to end) -----------------------------------------------------------
@pytest.mark.parametrize("amount", ["0.000000000000000001", "9999999999999999.999999999999999999", "-12.5"])
def test_decimal_round_trips_exactly(wallet, eth, amount):
    row = tx(wallet, eth, Decimal(amount))
    row.save()
    stored = Transaction.objects.get(pk=row.pk).amount
    assert isinstance(stored, Decimal) and stored == Decimal(amount)


def test_sum_of_decimals_is_exact(wallet, eth):
    Transaction.objects.bulk_create([tx(wallet, eth, Decimal("0.1")) for _ in range(1000)])
    Transaction.objects.bulk_create([tx(wallet, eth, Decimal("0.000000000000000001")) for _ in range(3)])
    total = Transaction.objects.aggregate(total=Sum("amount"))["total"]
    assert total == Decimal("100.000000000000000003")  # a float sum would drift


# --- unique indexes (idempotent imports and monitoring) ---------------------------------------------
def test_unique_index_raises_integrity_error_on_save():
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    with pytest.raises(IntegrityError):
        Cryptocurrency.objects.create(name="Ether again", symbol="ETH")
    assert Cryptocurrency.objects.count() == 1


def test_unique_index_raises_integrity_error_on_bulk_create():
    with pytest.raises(IntegrityError):
        Cryptocurrency.objects.bulk_create([Cryptocurrency(name="a", symbol="X"), Cryptocurrency(name="b", symbol="X")])


def test_nulls_do_not_collide_in_a_unique_nullable_field(wallet, eth):
    Transaction.objects.bulk_create([tx(wallet, eth, Decimal(1)), tx(wallet, eth, Decimal(2))])
    assert Transaction.objects.filter(external_id=None).count() == 2
    tx(wallet, eth, Decimal(3), external_id="chain:0xabc:0:w").save()
    with pytest.raises(IntegrityError):
        tx(wallet, eth, Decimal(4), external_id="chain:0xabc:0:w").save()


# --- transactions (services) ------------------------------------------------------------------------
def test_mongo_atomic_commits_both_documents():
    with atomic():
        TaskRun.objects.create(name="a")
        TaskRun.objects.create(name="b")
    assert set(TaskRun.objects.values_list("name", flat=True)) == {"a", "b"}


def test_mongo_atomic_rolls_back_both_documents():
    with pytest.raises(RuntimeError), atomic():
        TaskRun.objects.create(name="a")
        TaskRun.objects.create(name="b")
        raise RuntimeError
    assert not TaskRun.objects.exists()


def test_on_commit_runs_after_commit_and_never_after_rollback():
    calls = []
    with atomic():
        on_commit(lambda: calls.append("committed"))
        assert calls == []
    with pytest.raises(RuntimeError), atomic():
        on_commit(lambda: calls.append("rolled back"))
        raise RuntimeError
    assert calls == ["committed"]


def test_djangos_atomic_is_not_a_transaction_here():
    """Why services use django_mongodb_backend.transaction.atomic."""
    with pytest.raises(RuntimeError), django_transaction.atomic():
        TaskRun.objects.create(name="kept")
        raise RuntimeError
    assert TaskRun.objects.filter(name="kept").exists()


def test_mongo_atomic_inside_djangos_atomic_fails_at_commit():
    """Why core.admin_base runs admin views without Django's atomic."""
    with pytest.raises(TransactionManagementError), django_transaction.atomic(), atomic():
        TaskRun.objects.create(name="x")


# --- compare-and-set (exactly-once work) ------------------------------------------------------------
def test_conditional_update_is_compare_and_set():
    run = TaskRun.objects.create(name="once")
    assert TaskRun.objects.filter(pk=run.pk, status=TaskStatus.QUEUED).update(status=TaskStatus.RUNNING) == 1
    assert TaskRun.objects.filter(pk=run.pk, status=TaskStatus.QUEUED).update(status=TaskStatus.RUNNING) == 0


def test_conditional_update_has_one_winner_across_threads():
    run = TaskRun.objects.create(name="race")
    barrier = threading.Barrier(4)
    results = []

    def claim():
        try:
            barrier.wait()
            results.append(TaskRun.objects.filter(pk=run.pk, status=TaskStatus.QUEUED)
                           .update(status=TaskStatus.RUNNING))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 0, 0, 1]


def test_select_for_update_is_accepted_but_does_not_lock():
    run = TaskRun.objects.create(name="locked?")
    with atomic():
        locked = list(TaskRun.objects.select_for_update().filter(pk=run.pk))
        other_thread_result = []

        def write():
            try:
                other_thread_result.append(TaskRun.objects.filter(pk=run.pk).update(message="written"))
            finally:
                connections.close_all()

        thread = threading.Thread(target=write)
        thread.start()
        thread.join(timeout=10)
    assert locked and other_thread_result == [1]  # nobody waited: use compare-and-set instead


# --- embedded-server defects and their workarounds (stack.md) ----------------------------------------
def test_annotate_f_reads_across_a_relation():
    permission = Permission.objects.filter(codename="view_taskrun").annotate(app=F("content_type__app_label")).get()
    assert permission.app == "core"


@pytest.mark.skipif(not harness.USE_EMBEDDED_MONGODB, reason="defect of the embedded server only")
def test_defect_values_list_across_a_relation_is_wrong_on_the_embedded_server():
    labels = list(Permission.objects.filter(codename="view_taskrun").values_list("content_type__app_label", flat=True))
    assert labels != ["core"]


@pytest.mark.skipif(not harness.USE_EMBEDDED_MONGODB, reason="defect of the embedded server only")
def test_defect_select_related_ordered_by_the_related_model_is_empty(wallet):
    """Found here (not in stack.md): select_related plus order_by on a field of the related model
    leaves the related object None. Permission's default ordering is by content type, which is why
    accounts.admin labels permissions through ContentType.objects.get_for_id."""
    assert Wallet.objects.select_related("user").order_by("user__username")[0]._state.fields_cache["user"] is None
    (permission,) = Permission.objects.select_related("content_type").filter(codename="view_taskrun")
    assert permission._state.fields_cache.get("content_type") is None


def test_select_related_with_local_ordering_works(wallet):
    fetched = Wallet.objects.select_related("user").order_by("name").get(pk=wallet.pk)
    assert fetched._state.fields_cache["user"].pk == wallet.user_id
    permission = Permission.objects.select_related("content_type").order_by("codename").get(codename="view_taskrun")
    assert permission.content_type.app_label == "core"


def test_date_range_filters_are_correct(wallet, eth):
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    Transaction.objects.bulk_create([tx(wallet, eth, Decimal(d), transaction_date=base + dt.timedelta(days=d))
                                     for d in range(10)])
    in_range = Transaction.objects.filter(transaction_date__gte=base + dt.timedelta(days=3),
                                          transaction_date__lt=base + dt.timedelta(days=6))
    assert sorted(int(t.amount) for t in in_range) == [3, 4, 5]
    assert Transaction.objects.filter(transaction_date__range=(base, base + dt.timedelta(days=1))).count() == 2


def test_sorted_and_sliced_queries_are_correct(wallet, eth):
    Transaction.objects.bulk_create([tx(wallet, eth, Decimal(n)) for n in (5, 1, 9, 3, 7)])
    page = Transaction.objects.order_by("-amount")[1:3]
    assert [int(t.amount) for t in page] == [7, 5]


def test_lookup_by_indexed_field_finds_the_row(make_user):
    user = make_user(username="findme")
    assert type(user).objects.get(username="findme").pk == user.pk


def test_malformed_object_id_in_a_filter_raises_validation_error():
    """Why API routes match ids with the `oid` path converter before any query (else a 500)."""
    with pytest.raises(ValidationError):
        list(TaskRun.objects.filter(pk="not-an-object-id"))


def test_change_stream_delivers_orm_writes():
    """Why core.realtime can tail the outbox."""
    collection = connection.get_collection(TaskRun._meta.db_table)
    with collection.watch([{"$match": {"operationType": "insert"}}], max_await_time_ms=200) as stream:
        TaskRun.objects.create(name="streamed")
        deadline = time.monotonic() + 5
        change = None
        while change is None and time.monotonic() < deadline:
            change = stream.try_next()
    assert change is not None and change["fullDocument"]["name"] == "streamed"
