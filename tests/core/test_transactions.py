"""core.transactions.in_transaction: the one helper every multi-document write goes through."""

import pymongo.errors
import pytest
from django.db import IntegrityError, connection

from core.models import TaskRun
from core.transactions import in_transaction, is_transient

pytestmark = pytest.mark.django_db


def write_conflict():
    return pymongo.errors.OperationFailure("WriteConflict", code=112)


def test_a_transient_conflict_runs_the_whole_unit_again_and_its_first_writes_are_gone():
    attempts = []

    def work():
        attempts.append(TaskRun.objects.create(name=f"attempt-{len(attempts) + 1}"))
        if len(attempts) == 1:
            raise write_conflict()
        return "done"

    assert in_transaction(work) == "done"
    assert len(attempts) == 2
    assert list(TaskRun.objects.values_list("name", flat=True)) == ["attempt-2"]  # the first was rolled back


def test_an_integrity_error_is_an_answer_not_a_conflict():
    calls = []

    def work():
        calls.append(1)
        TaskRun.objects.create(name="kept-out")
        raise IntegrityError("duplicate key")

    with pytest.raises(IntegrityError):
        in_transaction(work)
    assert calls == [1] and not TaskRun.objects.exists()


def test_gives_up_after_the_attempts_and_raises_the_conflict():
    calls = []

    def work():
        calls.append(1)
        raise write_conflict()

    with pytest.raises(pymongo.errors.OperationFailure):
        in_transaction(work, attempts=3)
    assert len(calls) == 3


def test_inside_an_enclosing_transaction_it_just_runs_and_the_outer_one_owns_the_retry():
    inner_calls, outer_calls = [], []

    def inner():
        inner_calls.append(connection.in_atomic_block_mongo)
        TaskRun.objects.create(name="inner")

    def outer():
        outer_calls.append(1)
        in_transaction(inner)
        if len(outer_calls) == 1:
            raise write_conflict()

    in_transaction(outer)
    assert inner_calls == [True, True] and len(outer_calls) == 2
    assert TaskRun.objects.filter(name="inner").count() == 1


def test_what_counts_as_transient():
    labelled = pymongo.errors.PyMongoError("conflict")
    labelled._error_labels = {"TransientTransactionError"}
    assert is_transient(labelled)
    assert is_transient(write_conflict())
    wrapped = RuntimeError("wrapped")
    wrapped.__cause__ = write_conflict()
    assert is_transient(wrapped)
    assert not is_transient(pymongo.errors.OperationFailure("bad", code=2))
    assert not is_transient(ValueError("no"))
