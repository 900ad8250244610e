"""/api/transactions/: owner-scoped CRUD, filters, ordering, pagination without growing queries,
history with running balances, categories, and chain rows whose on-chain facts cannot change."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wallets.models import Cryptocurrency, Transaction, WalletType
from wallets.services import wallet_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(make_user, client, access_token_for):
    user = make_user()
    token = access_token_for(user)
    eth = Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    Cryptocurrency.objects.create(name="Demo Dollar", symbol="DUSD", decimals=6, contract_address="0x" + "d" * 40)
    wallet = wallet_create(user=user, name="main", wallet_type=WalletType.PRIVATE_KEY)

    def call(method, path, data=None):
        return getattr(client, method)(path, data, content_type="application/json",
                                       HTTP_AUTHORIZATION=f"Bearer {token}")

    return user, wallet, eth, call


def add(call, wallet, **fields):
    body = {"wallet_id": str(wallet.pk), "asset": "ETH", "transaction_type": "BUY", "amount": "1",
            "price_at_transaction": "2000", "transaction_date": "2026-03-01T12:00:00Z", **fields}
    response = call("post", "/api/transactions/", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_create_computes_value_and_keeps_decimals_exact(setup):
    _, wallet, _, call = setup
    row = add(call, wallet, amount="0.123456789012345678", price_at_transaction="2500.5")
    assert row["amount"] == "0.123456789012345678" and row["asset"] == "ETH" and row["source"] == "manual"
    assert Decimal(row["usd_value"]) == (Decimal("0.123456789012345678") * Decimal("2500.5")).quantize(Decimal("1e-8"))


@pytest.mark.parametrize("change", [{"amount": "-1"}, {"amount": "abc"}, {"transaction_type": "GIFT"},
                                    {"asset": "NOPE"}, {"transaction_date": "yesterday"}, {"extra": 1},
                                    {"from_address": "0x123"}])
def test_bad_transactions_are_refused(setup, change):
    _, wallet, _, call = setup
    body = {"wallet_id": str(wallet.pk), "asset": "ETH", "transaction_type": "BUY", "amount": "1",
            "transaction_date": "2026-03-01T12:00:00Z", **change}
    assert call("post", "/api/transactions/", body).status_code == 422
    assert not Transaction.objects.exists()


def test_filters_and_ordering(setup):
    _, wallet, _, call = setup
    add(call, wallet, amount="1", transaction_date="2026-01-05T00:00:00Z")
    add(call, wallet, amount="3", transaction_type="SELL", transaction_date="2026-02-05T00:00:00Z")
    add(call, wallet, amount="2", asset="DUSD", transaction_type="INCOME", transaction_date="2026-03-05T00:00:00Z",
        tax_category="salary")
    def amounts(query):
        return [Decimal(r["amount"]) for r in call("get", f"/api/transactions/?{query}").json()["items"]]
    assert amounts("ordering=amount") == [1, 2, 3]
    assert amounts("ordering=-date") == [2, 3, 1]
    assert amounts("asset=dusd") == [2]
    assert amounts("transaction_type=SELL") == [3]
    assert amounts("date_from=2026-02-01T00:00:00Z&date_to=2026-03-01T00:00:00Z") == [3]
    assert amounts(f"wallet_id={wallet.pk}&ordering=date") == [1, 3, 2]
    assert [r["tax_category"] for r in call("get", "/api/transactions/category/salary/").json()["items"]] == ["salary"]
    assert call("get", "/api/transactions/?ordering=sideways").status_code == 422


def test_list_queries_do_not_grow_with_rows(setup):
    user, wallet, eth, call = setup
    def count():
        with CaptureQueriesContext(connection) as captured:
            response = call("get", "/api/transactions/?limit=50")
            assert response.status_code == 200
        return len(captured.captured_queries), len(response.json()["items"])
    Transaction.objects.bulk_create([Transaction(transaction_type="BUY", user=user, organization_id=wallet.organization_id, wallet=wallet, cryptocurrency=eth,
                                                 amount=Decimal(1), transaction_date="2026-01-01T00:00:00Z")
                                     for _ in range(2)])
    few, rows = count()
    assert rows == 2
    Transaction.objects.bulk_create([Transaction(transaction_type="BUY", user=user, organization_id=wallet.organization_id, wallet=wallet, cryptocurrency=eth,
                                                 amount=Decimal(1), transaction_date="2026-01-01T00:00:00Z")
                                     for _ in range(30)])
    assert count() == (few, 32)


def test_history_has_running_balances_per_asset(setup):
    _, wallet, _, call = setup
    add(call, wallet, amount="2", transaction_date="2026-01-01T00:00:00Z")
    add(call, wallet, amount="0.5", transaction_type="SELL", transaction_date="2026-01-02T00:00:00Z")
    add(call, wallet, amount="10", asset="DUSD", transaction_type="INCOME", transaction_date="2026-01-03T00:00:00Z")
    add(call, wallet, amount="0.25", transaction_type="EXPENSE", transaction_date="2026-01-04T00:00:00Z")
    rows = call("get", "/api/transactions/history/").json()["items"]
    assert [(r["asset"], r["change"], r["balance"]) for r in rows] == [
        ("ETH", "2", "2"), ("ETH", "-0.5", "1.5"), ("DUSD", "10", "10"), ("ETH", "-0.25", "1.25")]


def test_chain_rows_keep_their_facts(setup):
    _, wallet, eth, call = setup
    row = Transaction.objects.create(transaction_type="TRANSFER", wallet=wallet, cryptocurrency=eth,
                                     amount=Decimal("1"), transaction_date="2026-01-01T00:00:00Z", source="chain",
                                     hash="0x" + "1" * 64, external_id="chain:x:-1:y")
    refused = call("put", f"/api/transactions/{row.pk}/", {"amount": "5"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "immutable_fields"
    ok = call("put", f"/api/transactions/{row.pk}/", {"business_purpose": "Supplier payment", "tax_category": "cogs"})
    assert ok.status_code == 200 and ok.json()["business_purpose"] == "Supplier payment"
    assert call("delete", f"/api/transactions/{row.pk}/").status_code == 409
    row.refresh_from_db()
    assert row.amount == Decimal("1")


def test_manual_rows_can_be_corrected_and_deleted(setup):
    _, wallet, _, call = setup
    row = add(call, wallet)
    assert call("put", f"/api/transactions/{row['id']}/", {"amount": "4"}).json()["amount"] == "4"
    assert call("put", f"/api/transactions/{row['id']}/", {"amount": "-4"}).status_code == 422
    assert call("delete", f"/api/transactions/{row['id']}/").status_code == 200
    assert not Transaction.objects.exists()


def test_other_users_transactions_are_invisible(setup, make_user):
    _, _, eth, call = setup
    stranger_wallet = wallet_create(user=make_user(), name="x", wallet_type=WalletType.PRIVATE_KEY)
    row = Transaction.objects.create(transaction_type="BUY", wallet=stranger_wallet, cryptocurrency=eth,
                                     amount=Decimal(1), transaction_date="2026-01-01T00:00:00Z")
    assert call("get", f"/api/transactions/{row.pk}/").status_code == 404
    assert call("put", f"/api/transactions/{row.pk}/", {"description": "mine now"}).status_code == 404
    assert call("delete", f"/api/transactions/{row.pk}/").status_code == 404
    assert call("get", "/api/transactions/").json()["items"] == []
    assert call("post", "/api/transactions/", {"wallet_id": str(stranger_wallet.pk), "asset": "ETH",
                                               "transaction_type": "BUY", "amount": "1", "price_at_transaction": "2000",
                                               "transaction_date": "2026-03-01T12:00:00Z"}).status_code == 404


def test_labels_are_business_fields_of_chain_rows_documented_with_their_values(setup, client):
    _, wallet, eth, call = setup
    row = Transaction.objects.create(transaction_type="TRANSFER", wallet=wallet, cryptocurrency=eth, direction="in",
                                     amount=Decimal("1"), usd_value=Decimal("2000"), source="chain",
                                     transaction_date="2026-01-01T00:00:00Z", hash="0x" + "2" * 64,
                                     from_address="0x" + "ab" * 20, to_address=wallet.address,
                                     external_id="chain:y:-1:z")
    labelled = call("put", f"/api/transactions/{row.pk}/", {"label": "staking reward", "category": "business"})
    assert labelled.status_code == 200, labelled.content
    body = labelled.json()
    assert (body["label"], body["category"], body["transaction_type"], body["tax_category"]) == (
        "staking reward", "business", "INCOME", "staking")
    assert body["is_classified"] is True and Decimal(body["ai_confidence"]) == 1
    assert call("put", f"/api/transactions/{row.pk}/", {"category": "trading"}).json()["category"] == "trading"
    assert call("put", f"/api/transactions/{row.pk}/", {"label": "bribe"}).status_code == 422
    assert call("put", f"/api/transactions/{row.pk}/", {"label": "gift", "transaction_type": "SELL"}).status_code == 422
    # a gas-only chain row (amount 0) can be labelled too
    gas = Transaction.objects.create(transaction_type="TRANSFER", wallet=wallet, cryptocurrency=eth, direction="out",
                                     amount=Decimal("0"), fee=Decimal("0.001"), source="chain",
                                     transaction_date="2026-01-02T00:00:00Z", hash="0x" + "3" * 64,
                                     from_address=wallet.address, to_address="0x" + "cd" * 20,
                                     external_id="chain:g:-1:z")
    assert call("put", f"/api/transactions/{gas.pk}/", {"label": "fee"}).json()["label"] == "fee"
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]["TransactionUpdateIn"]["properties"]
    assert "staking reward" in str(schema["label"]) and "own transfer" in str(schema["label"])
    assert "trading" in str(schema["category"])
