"""core.counters: the one gap-free counter per organization, key and year (journal entries, invoices,
credit notes). Under concurrency the numbers are exactly 1..N; a rolled-back transaction gives its
number back; counters of other organizations, keys and years are independent."""

import threading

import pytest
from bson import ObjectId
from django.db import connections

from core.counters import counter_ensure, counter_last, counter_next
from core.models import TaskRun
from core.transactions import in_transaction

pytestmark = pytest.mark.django_db(transaction=True)

ORG, OTHER_ORG = ObjectId(), ObjectId()


def _take(organization_id=ORG, key="INV", year=2026, count=1):
    return in_transaction(lambda: counter_next(organization_id=organization_id, key=key, year=year, count=count))


def test_concurrent_transactions_take_exactly_one_to_n():
    counter_ensure(organization_id=ORG, key="INV", year=2026)
    threads_n, per_thread = 4, 8
    taken, errors = [], []
    barrier = threading.Barrier(threads_n)
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait(timeout=60)
            for _ in range(per_thread):
                def work():
                    number = counter_next(organization_id=ORG, key="INV", year=2026)
                    TaskRun.objects.create(name=f"numbered {number}")  # another write in the same transaction
                    return number

                number = in_transaction(work)
                with lock:
                    taken.append(number)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert sorted(taken) == list(range(1, threads_n * per_thread + 1))
    assert counter_last(organization_id=ORG, key="INV", year=2026) == threads_n * per_thread
    assert sorted(int(name.split()[1]) for name in TaskRun.objects.values_list("name", flat=True)) == sorted(taken)


def test_a_rolled_back_transaction_gives_its_number_back():
    counter_ensure(organization_id=ORG, key="JE", year=2026)
    assert _take(key="JE") == 1

    def failing():
        counter_next(organization_id=ORG, key="JE", year=2026)
        raise RuntimeError("the issue failed after taking a number")

    with pytest.raises(RuntimeError):
        in_transaction(failing)
    assert _take(key="JE") == 2  # no gap


def test_organizations_keys_and_years_are_independent_and_a_block_can_be_taken():
    for org, key, year in ((ORG, "INV", 2026), (OTHER_ORG, "INV", 2026), (ORG, "CN", 2026), (ORG, "INV", 2027)):
        counter_ensure(organization_id=org, key=key, year=year)
    assert [_take(), _take(), _take(OTHER_ORG), _take(key="CN"), _take(year=2027)] == [1, 2, 1, 1, 1]
    assert _take(count=5) == 7  # numbers 3..7 in one write
    assert _take() == 8


def test_ensure_is_idempotent_and_the_numbers_follow_the_format_of_the_stored_key():
    counter_ensure(organization_id=ORG, key="INV", year=2025)
    assert _take(year=2025) == 1
    counter_ensure(organization_id=ORG, key="INV", year=2025)  # exists: unchanged
    assert _take(year=2025) == 2
    document = connections["default"].database["counters"].find_one({"key": f"{ORG}:INV-2025"})
    assert document["organization_id"] == ORG and document["last_number"] == 2


def test_inside_a_transaction_the_counter_must_exist_and_outside_it_is_made():
    with pytest.raises(LookupError):
        _take(key="NEW")
    assert counter_next(organization_id=ORG, key="NEW", year=2026) == 1  # no transaction: one atomic write
    with pytest.raises(ValueError):
        counter_next(organization_id=ORG, key="NEW", year=2026, count=0)
