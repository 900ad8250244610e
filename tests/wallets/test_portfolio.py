"""Portfolio: the pure average-cost engine, and the portfolio endpoints over real stored data."""

import datetime as dt
from decimal import Decimal

import pytest

from wallets.models import Cryptocurrency, WalletType
from wallets.portfolio import positions_from, valued
from wallets.prices import price_record
from wallets.services import transaction_create, wallet_create

D = Decimal


def test_average_cost_through_buys_and_partial_sells():
    positions = positions_from([
        {"kind": "BUY", "asset": "ETH", "quantity": D("1"), "value": D("1000")},
        {"kind": "BUY", "asset": "ETH", "quantity": D("1"), "value": D("3000")},
        {"kind": "SELL", "asset": "ETH", "quantity": D("0.5"), "value": D("1500")},
        {"kind": "INCOME", "asset": "ETH", "quantity": D("0.5"), "value": D("1000")},
    ])
    eth = positions["ETH"]
    # 2 ETH cost 4000; selling a quarter removes 1000 of cost; the income adds 1000 back.
    assert eth.quantity == D("2") and eth.cost == D("4000")
    assert eth.average_price == D("2000")


def test_transfers_in_and_out_and_selling_everything():
    positions = positions_from([
        {"kind": "IN", "asset": "DUSD", "quantity": D("100"), "value": None},
        {"kind": "BUY", "asset": "ETH", "quantity": D("2"), "value": D("5000")},
        {"kind": "OUT", "asset": "ETH", "quantity": D("2"), "value": None},
    ])
    assert positions["ETH"].quantity == 0 and positions["ETH"].cost == 0 and positions["ETH"].average_price is None
    assert positions["DUSD"].quantity == D("100") and positions["DUSD"].cost == 0


def test_valued_rows_and_unpriced_assets():
    positions = positions_from([{"kind": "BUY", "asset": "ETH", "quantity": D("2"), "value": D("4000")},
                                {"kind": "INCOME", "asset": "OTH", "quantity": D("5"), "value": None}])
    rows = {r["asset"]: r for r in valued(positions, {"ETH": D("2500"), "OTH": None})}
    assert rows["ETH"]["current_value"] == D("5000") and rows["ETH"]["unrealized_gain_loss"] == D("1000")
    assert rows["OTH"]["current_value"] is None and rows["OTH"]["unrealized_gain_loss"] is None


@pytest.mark.django_db
def test_portfolio_endpoints(organization, client, make_user, access_token_for, settings):
    settings.PRICE_API_BASE_URL = ""
    user = make_user()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(user)}"}
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    Cryptocurrency.objects.create(name="Demo Dollar", symbol="DUSD", decimals=6)
    price_record(organization=organization, symbol="ETH", price=D("3000"))
    price_record(organization=organization, symbol="DUSD", price=D("1"))
    hot = wallet_create(user=user, name="hot", wallet_type=WalletType.PRIVATE_KEY)
    cold = wallet_create(user=user, name="cold", wallet_type=WalletType.PRIVATE_KEY)
    when = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    transaction_create(actor=hot.user, wallet=hot, asset="ETH", transaction_type="BUY", amount=D("1"), price_at_transaction=D("2000"),
                       transaction_date=when)
    transaction_create(actor=cold.user, wallet=cold, asset="ETH", transaction_type="BUY", amount=D("1"), price_at_transaction=D("2000"),
                       transaction_date=when + dt.timedelta(days=1))
    transaction_create(actor=hot.user, wallet=hot, asset="DUSD", transaction_type="INCOME", amount=D("2000"),
                       price_at_transaction=D("1"), transaction_date=when + dt.timedelta(days=2))
    rows = {r["asset"]: r for r in client.get("/api/portfolio/", **headers).json()}
    assert D(rows["ETH"]["quantity"]) == 2 and D(rows["ETH"]["average_buy_price"]) == 2000
    assert D(rows["ETH"]["unrealized_gain_loss"]) == 2000
    total = client.get("/api/portfolio/value/", **headers).json()
    assert D(total["total_value"]) == 8000 and D(total["total_invested"]) == 6000 and total["unpriced"] == []
    allocation = client.get("/api/portfolio/allocation/", **headers).json()
    assert [(a["name"], D(a["share"])) for a in allocation["by_asset"]] == [("ETH", D("0.75")), ("DUSD", D("0.25"))]
    assert {a["name"]: D(a["value"]) for a in allocation["by_wallet"]} == {"hot": D("5000"), "cold": D("3000")}


@pytest.mark.django_db
def test_portfolio_of_another_user_is_not_mixed_in(client, make_user, access_token_for):
    owner, other = make_user(), make_user()
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    wallet = wallet_create(user=owner, name="w", wallet_type=WalletType.PRIVATE_KEY)
    transaction_create(actor=wallet.user, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D("1"),
                       transaction_date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    assert client.get("/api/portfolio/", HTTP_AUTHORIZATION=f"Bearer {access_token_for(other)}").json() == []


@pytest.mark.django_db
def test_portfolio_is_valued_in_the_organizations_fiat(make_organization, client, make_user, access_token_for,
                                                       settings):
    settings.PRICE_API_BASE_URL = ""
    organization = make_organization("Euro books", reporting_fiat="EUR")
    user = make_user(organization=organization)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(user)}"}
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    price_record(organization=organization, symbol="ETH", price=D("9999"))  # USD: not the organization's fiat
    price_record(organization=organization, symbol="ETH", price=D("2500"), fiat="EUR")
    wallet = wallet_create(user=user, name="w", wallet_type=WalletType.PRIVATE_KEY)
    transaction_create(actor=wallet.user, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D("2"), price_at_transaction=D("2000"),
                       transaction_date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    total = client.get("/api/portfolio/value/", **headers).json()
    assert total["fiat"] == "EUR" and D(total["total_value"]) == 5000 and D(total["total_invested"]) == 4000
    assert client.get("/api/portfolio/performance/", **headers).json()["fiat"] == "EUR"
