"""Whole histories read straight from the driver (core.mongodb.raw_read, wallets.transaction_rows):
every field read has the value and type a model instance has; the queryset's filter (tenancy included)
means what it means to the ORM; one find and one read per related model, whatever the row count;
querysets the driver cannot answer alone are refused."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.mongodb.raw_read import queryset_documents
from core.transactions import in_transaction
from wallets.models import (
    Cryptocurrency, Transaction, TransactionSource, TransactionStatus, TransactionType, TransferDirection, Wallet,
    WalletType,
)
from wallets.transaction_rows import NOT_READ, transaction_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(organization, make_user):
    user = make_user()
    eth, _ = Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "decimals": 18})
    usdc, _ = Cryptocurrency.objects.get_or_create(symbol="USDC", defaults={"name": "USD Coin", "decimals": 6})
    wallet = Wallet.objects.create(organization=organization, user=user, name="Main",
                                   address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", wallet_type=WalletType.METAMASK)
    rows = [
        # Every kind of value: many digits, tiny and negative-exponent decimals, None, the defaults.
        Transaction.objects.create(
            organization=organization, user=user, wallet=wallet, cryptocurrency=eth, transaction_type=TransactionType.BUY,
            amount=Decimal("1.234567890123456789"), usd_value=Decimal("98765432.10"), total_cost_usd=Decimal("98765433.60"),
            fee=Decimal("0.000000000000000001"), transaction_date=dt.datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=dt.timezone.utc),
            hash="0x" + "ab" * 32, log_index=3, from_address="0x1", to_address=wallet.address, tax_category="income",
            ai_category="trading", source=TransactionSource.CHAIN, direction=TransferDirection.IN, network="polygon",
            external_id="chain:polygon:0x" + "ab" * 32 + ":3:" + wallet.address, description="left on the server"),
        Transaction.objects.create(
            organization=organization, user=user, cryptocurrency=usdc, transaction_type=TransactionType.SELL,
            amount=Decimal("10"), transaction_date=dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc),
            status=TransactionStatus.PENDING),
    ]
    return organization, user, wallet, rows


def test_every_field_read_equals_the_model_instance(history):
    organization, _, wallet, created = history
    rows = {row.pk: row for row in transaction_rows(Transaction.objects.for_organization(organization.pk))}
    assert set(rows) == {tx.pk for tx in created}
    for instance in Transaction.objects.filter(pk__in=[tx.pk for tx in created]):
        row = rows[instance.pk]
        for field in Transaction._meta.concrete_fields:
            if field.name in NOT_READ:
                assert field.attname not in row.__dict__
                continue
            value, expected = getattr(row, field.attname), getattr(instance, field.attname)
            assert value == expected and type(value) is type(expected), field.name
            if isinstance(expected, Decimal):
                assert value.as_tuple() == expected.as_tuple(), field.name  # the same digits and exponent
            if isinstance(expected, dt.datetime):
                assert value.utcoffset() == expected.utcoffset() == dt.timedelta(0), field.name
        assert row.cryptocurrency == instance.cryptocurrency
        assert row.wallet == instance.wallet
    assert rows[created[0].pk].wallet.address == wallet.address and rows[created[1].pk].wallet is None


def test_the_filter_means_what_it_means_to_the_orm(history, make_organization, make_user):
    organization, user, _, created = history
    other = make_organization(name="Other")
    eth = Cryptocurrency.objects.get(symbol="ETH")
    Transaction.objects.create(organization=other, user=make_user(organization=other), cryptocurrency=eth,
                               transaction_type=TransactionType.BUY, amount=Decimal(1), transaction_date=dt.datetime.now(dt.timezone.utc))
    scoped = Transaction.objects.for_organization(organization.pk)
    assert {row.pk for row in transaction_rows(scoped)} == {tx.pk for tx in created}
    assert [row.pk for row in transaction_rows(scoped.filter(status=TransactionStatus.CONFIRMED))] == [created[0].pk]
    assert [row.pk for row in transaction_rows(scoped.filter(pk=created[1].pk).order_by("-transaction_date"))] == [created[1].pk]
    assert transaction_rows(scoped.none()) == []
    assert transaction_rows(Transaction.objects.for_organization(None)) == []
    assert transaction_rows(scoped.filter(transaction_date__gte=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))) == []


def test_one_find_and_one_read_per_related_model_whatever_the_rows(history):
    organization, user, wallet, _ = history
    eth = Cryptocurrency.objects.get(symbol="ETH")
    scoped = Transaction.objects.for_organization(organization.pk)
    with CaptureQueriesContext(connection) as few:
        transaction_rows(scoped)
    Transaction.objects.bulk_create([
        Transaction(organization=organization, user=user, wallet=wallet, cryptocurrency=eth, transaction_type=TransactionType.BUY,
                    amount=Decimal(n), transaction_date=dt.datetime(2022, 1, 1, tzinfo=dt.timezone.utc)) for n in range(1, 60)])
    with CaptureQueriesContext(connection) as many:
        assert len(transaction_rows(scoped)) == 61
    assert len(few.captured_queries) == len(many.captured_queries) == 3


def test_a_read_inside_a_transaction_sees_its_writes(history):
    organization, user, _, created = history
    eth = Cryptocurrency.objects.get(symbol="ETH")
    def work():
        new = Transaction.objects.create(organization=organization, user=user, cryptocurrency=eth,
                                         transaction_type=TransactionType.BUY, amount=Decimal(2),
                                         transaction_date=dt.datetime.now(dt.timezone.utc))
        return new, {row.pk for row in transaction_rows(Transaction.objects.for_organization(organization.pk))}

    new, seen = in_transaction(work)
    assert new.pk in seen and len(seen) == len(created) + 1


@pytest.mark.parametrize("queryset", [
    lambda: Transaction.objects.all()[:10],
    lambda: Transaction.objects.filter(wallet__name="Main"),
    lambda: Transaction.objects.annotate(n=__import__("django.db.models", fromlist=["Value"]).Value(1)),
], ids=["sliced", "join", "annotated"])
def test_what_the_driver_cannot_answer_alone_is_refused(history, queryset):
    with pytest.raises(ValueError):
        list(queryset_documents(queryset()))
