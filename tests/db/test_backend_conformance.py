"""Backend behaviours found while building (test_backend_facts.py holds the general ones): each
test names the code that depends on it. Run on the server in use (embedded SecantusDB by default, a
real replica set when MONGODB_URI is set)."""

import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, connections
from django.db import transaction as django_transaction
from django.db.transaction import TransactionManagementError
from django_mongodb_backend.transaction import atomic

from core.models import TaskRun
from tests import harness
from wallets.models import Cryptocurrency, Wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def wallet(make_user):
    user = make_user()
    return Wallet.objects.create(name="w", address="0x" + "1" * 40, user=user, organization=user.organization,
                                 wallet_type="MetaMask")


# --- unique indexes (idempotent imports and monitoring) ---------------------------------------------
def test_unique_index_raises_integrity_error_on_save():
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    with pytest.raises(IntegrityError):
        Cryptocurrency.objects.create(name="Ether again", symbol="ETH")
    assert Cryptocurrency.objects.count() == 1


# --- transactions (services) ------------------------------------------------------------------------
def test_mongo_atomic_inside_djangos_atomic_fails_at_commit():
    """Why core.admin_base runs admin views without Django's atomic."""
    with pytest.raises(TransactionManagementError), django_transaction.atomic(), atomic():
        TaskRun.objects.create(name="x")


# --- compare-and-set (exactly-once work) ------------------------------------------------------------
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
@pytest.mark.skipif(not harness.USE_EMBEDDED_MONGODB, reason="defect of the embedded server only")
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


def test_lookup_by_indexed_field_finds_the_row(make_user):
    user = make_user(username="findme")
    assert type(user).objects.get(username="findme").pk == user.pk

