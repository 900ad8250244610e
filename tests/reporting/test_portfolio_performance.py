"""Portfolio performance: the pure P&L/ROI engine (Modified Dietz, flows netted out), the price book,
and GET /api/portfolio/performance/ over real stored transactions and prices."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wallets.models import Cryptocurrency, Transaction, WalletType
from wallets.portfolio import PriceBook, window_performance
from wallets.prices import price_record
from wallets.services import transaction_create, wallet_create

D = Decimal
NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def move(kind, quantity, value, days_ago, asset="ETH"):
    when = NOW - dt.timedelta(days=days_ago)
    return {"kind": kind, "asset": asset, "quantity": D(quantity), "value": None if value is None else D(value),
            "date": when, "day": when.date()}


def day(days_ago):
    return (NOW - dt.timedelta(days=days_ago)).date()


def test_price_book_carries_the_last_price_forward_and_prefers_the_latest_quote():
    book = PriceBook([("ETH", day(10), D("2000")), ("ETH", day(10), D("1999")), ("ETH", day(5), D("2500"))],
                     {"ETH": D("2600")})
    assert book.on("ETH", day(11)) is None  # nothing known before the first price
    assert book.on("ETH", day(10)) == D("2000")  # first row of a day wins
    assert book.on("ETH", day(7)) == D("2000") and book.on("ETH", day(1)) == D("2500")
    assert book.current("ETH") == D("2600")
    assert PriceBook([("ETH", day(5), D("2500"))]).current("ETH") == D("2500")
    assert book.on("BTC", day(1)) is None and book.current("BTC") is None


def test_window_nets_out_money_put_in_and_weights_it_by_time_invested():
    movements = [move("BUY", "1", "2000", 10), move("BUY", "1", "3000", 3)]
    book = PriceBook([("ETH", day(10), D("2000")), ("ETH", day(7), D("2500"))], {"ETH": D("3200")})

    week = window_performance(movements, book, start=NOW - dt.timedelta(days=7), end=NOW)
    # 1 ETH held at the start (2500), 3000 put in 3 days before the end, 2 ETH now at 3200.
    assert (week["start_value"], week["end_value"], week["inflows"], week["outflows"]) == (
        D("2500"), D("6400"), D("3000"), D("0"))
    assert week["pnl"] == D("900") and week["net_flows"] == D("3000")
    # ROI = 900 / (2500 + 3000 * 3/7) = 23.77 %
    assert week["roi_percent"] == D("23.77") and week["unpriced"] == []

    since_start = window_performance(movements, book, start=None, end=NOW)
    # From the first buy: nothing held before, 5000 put in, worth 6400: 1400 gained on
    # 2000 * 10/10 + 3000 * 3/10 = 2900 average capital.
    assert since_start["start"] == NOW - dt.timedelta(days=10)
    assert since_start["start_value"] == 0 and since_start["pnl"] == D("1400")
    assert since_start["roi_percent"] == D("48.28")


def test_sales_are_money_taken_out_not_a_loss():
    movements = [move("BUY", "2", "4000", 20), move("SELL", "1", "2500", 2)]
    book = PriceBook([("ETH", day(20), D("2000")), ("ETH", day(10), D("2400"))], {"ETH": D("2500")})
    window = window_performance(movements, book, start=NOW - dt.timedelta(days=10), end=NOW)
    # 2 ETH at 2400 = 4800; sold 1 for 2500; 1 left at 2500: gain 200.
    assert window["outflows"] == D("2500") and window["pnl"] == D("200")
    # 200 / (4800 - 2500 * 2/10)
    assert window["roi_percent"] == (D(200) / D(4300) * 100).quantize(D("0.01")) == D("4.65")


def test_flow_without_a_recorded_value_uses_that_days_price():
    movements = [move("IN", "1", None, 5)]
    book = PriceBook([("ETH", day(6), D("2000"))], {"ETH": D("2100")})
    window = window_performance(movements, book, start=NOW - dt.timedelta(days=7), end=NOW)
    assert window["inflows"] == D("2000") and window["pnl"] == D("100")


def test_assets_without_a_needed_price_are_listed_not_counted_as_zero():
    movements = [move("BUY", "1", "2000", 10), move("INCOME", "100", None, 9, asset="OTH"),
                 move("BUY", "5", "5", 9, asset="NEW")]
    # OTH has no price at all; NEW has a price today but none for the start of the window.
    book = PriceBook([("ETH", day(10), D("2000"))], {"ETH": D("2200"), "NEW": D("2")})
    window = window_performance(movements, book, start=NOW - dt.timedelta(days=7), end=NOW)
    assert window["unpriced"] == ["NEW", "OTH"]
    assert (window["start_value"], window["end_value"], window["pnl"]) == (D("2000"), D("2200"), D("200"))
    assert window["roi_percent"] == D("10.00")


def test_no_roi_without_capital():
    window = window_performance([], PriceBook([]), start=NOW - dt.timedelta(days=7), end=NOW)
    assert window["pnl"] == 0 and window["roi_percent"] is None and window["unpriced"] == []


# --- the endpoint ----------------------------------------------------------------------------------------
@pytest.fixture
def eth_user(make_user, access_token_for, settings):
    settings.PRICE_API_BASE_URL = ""
    user = make_user()
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    Cryptocurrency.objects.create(name="Other", symbol="OTH")
    wallet = wallet_create(user=user, name="w", wallet_type=WalletType.PRIVATE_KEY)
    return user, wallet, {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(user)}"}


@pytest.mark.django_db
def test_performance_endpoint_over_stored_data(organization, client, eth_user):
    user, wallet, headers = eth_user
    now = timezone.now()
    today = timezone.localdate()
    transaction_create(actor=wallet.user, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D("1"),
                       price_at_transaction=D("2000"), transaction_date=now - dt.timedelta(days=40))
    transaction_create(actor=wallet.user, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D("1"),
                       price_at_transaction=D("3000"), transaction_date=now - dt.timedelta(days=3, hours=12))
    # Old data (input refuses it today, issue 19): income without a value and no stored price of OTH.
    Transaction.objects.create(user=wallet.user, organization=wallet.organization, wallet=wallet,
                               cryptocurrency=Cryptocurrency.objects.get(symbol="OTH"), transaction_type="INCOME",
                               amount=D("5"), transaction_date=now - dt.timedelta(days=2), status="CONFIRMED")
    price_record(organization=organization, symbol="ETH", price=D("2000"), day=today - dt.timedelta(days=40))
    price_record(organization=organization, symbol="ETH", price=D("2500"), day=today - dt.timedelta(days=7))
    price_record(organization=organization, symbol="ETH", price=D("3200"))

    body = client.get("/api/portfolio/performance/", **headers).json()
    windows = {w["period"]: w for w in body["windows"]}
    assert list(windows) == ["24h", "7d", "30d", "ytd", "all"] and body["fiat"] == "USD"
    week = windows["7d"]
    assert (D(week["start_value"]), D(week["end_value"]), D(week["inflows"]), D(week["pnl"])) == (
        D("2500"), D("6400"), D("3000"), D("900"))
    assert week["unpriced"] == ["OTH"]
    # 3000 invested 3.5 of the 7 days: 900 / (2500 + 1500)
    assert D(week["roi_percent"]) == D("22.50")
    day_window = windows["24h"]
    assert D(day_window["start_value"]) == D("5000") and D(day_window["pnl"]) == D("1400")
    everything = windows["all"]
    assert D(everything["start_value"]) == 0 and D(everything["pnl"]) == D("1400")


@pytest.mark.django_db
def test_performance_is_per_user_and_does_not_grow_queries_with_rows(organization, client, eth_user, make_user, access_token_for):
    user, wallet, headers = eth_user
    eth = Cryptocurrency.objects.get(symbol="ETH")
    price_record(organization=organization, symbol="ETH", price=D("2000"))

    def rows(n):
        Transaction.objects.bulk_create([
            Transaction(transaction_type="BUY", user=user, organization_id=wallet.organization_id, wallet=wallet, cryptocurrency=eth, amount=D("1"),
                        usd_value=D("1000"), transaction_date=timezone.now() - dt.timedelta(days=n + 1))
            for n in range(n)])

    def measured():
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/portfolio/performance/", **headers)
        assert response.status_code == 200
        return len(captured.captured_queries), response.json()

    rows(2)
    few, body = measured()
    assert D(body["windows"][-1]["end_value"]) == D("4000")
    rows(40)
    many, body = measured()
    assert many == few and D(body["windows"][-1]["end_value"]) == D("84000")

    stranger = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(make_user())}"}
    theirs = client.get("/api/portfolio/performance/", **stranger).json()
    assert all(D(w["end_value"]) == 0 and w["roi_percent"] is None for w in theirs["windows"])
    assert client.get("/api/portfolio/performance/").status_code == 401
