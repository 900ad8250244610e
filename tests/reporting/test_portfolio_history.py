"""Portfolio history: the pure daily value series, and GET /api/portfolio/history/ (bounded range,
bad input in the error envelope, prices loaded in one query whatever the range)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wallets.models import Cryptocurrency, WalletType
from wallets.portfolio import PriceBook, value_series
from wallets.prices import price_record
from wallets.services import transaction_create, wallet_create

D = Decimal


def test_value_series_multiplies_end_of_day_quantities_by_the_days_price():
    days = [dt.date(2026, 1, n) for n in range(1, 6)]
    movements = [
        {"kind": "BUY", "asset": "ETH", "quantity": D("2"), "day": dt.date(2026, 1, 2)},
        {"kind": "SELL", "asset": "ETH", "quantity": D("0.5"), "day": dt.date(2026, 1, 4)},
        {"kind": "IN", "asset": "OTH", "quantity": D("10"), "day": dt.date(2026, 1, 3)},
    ]
    book = PriceBook([("ETH", dt.date(2026, 1, 1), D("1000")), ("ETH", dt.date(2026, 1, 3), D("1100"))],
                     {"ETH": D("1200")})
    points = value_series(movements, days, book, today=dt.date(2026, 1, 5))
    assert [(p["date"].day, p["value"], p["unpriced"]) for p in points] == [
        (1, D("0"), []),
        (2, D("2000"), []),  # bought that day, priced at the carried-forward 1000
        (3, D("2200"), ["OTH"]),  # OTH has no price: listed, not counted as zero
        (4, D("1650"), ["OTH"]),  # 1.5 ETH after the sale
        (5, D("1800"), ["OTH"]),  # today: the current price
    ]


@pytest.fixture
def owner(make_user, access_token_for, settings):
    settings.PRICE_API_BASE_URL = ""
    user = make_user()
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    wallet = wallet_create(user=user, name="w", wallet_type=WalletType.PRIVATE_KEY)
    return user, wallet, {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(user)}"}


@pytest.mark.django_db
def test_history_endpoint_values_each_day(organization, client, owner, make_user, access_token_for):
    user, wallet, headers = owner
    today = timezone.localdate()
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    transaction_create(actor=wallet.user, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D("1"),
                       price_at_transaction=D("2000"), transaction_date=noon - dt.timedelta(days=5))
    transaction_create(actor=wallet.user, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D("2"),
                       price_at_transaction=D("2100"), transaction_date=noon - dt.timedelta(days=2))
    price_record(organization=organization, symbol="ETH", price=D("2000"), day=today - dt.timedelta(days=6))
    price_record(organization=organization, symbol="ETH", price=D("2200"), day=today - dt.timedelta(days=3))
    price_record(organization=organization, symbol="ETH", price=D("2500"))

    start = today - dt.timedelta(days=6)
    response = client.get(f"/api/portfolio/history/?start={start}&end={today}&interval=day", **headers)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["interval"] == "day" and body["fiat"] == "USD" and body["start"] == str(start)
    assert [D(p["value"]) for p in body["points"]] == [
        D("0"), D("2000"), D("2000"), D("2200"), D("6600"), D("6600"), D("7500")]
    assert [p["date"] for p in body["points"]] == [str(start + dt.timedelta(days=n)) for n in range(7)]

    default = client.get("/api/portfolio/history/", **headers).json()
    assert len(default["points"]) == 30 and default["end"] == str(today)

    stranger = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(make_user())}"}
    theirs = client.get(f"/api/portfolio/history/?start={start}", **stranger).json()
    assert {D(p["value"]) for p in theirs["points"]} == {D(0)}


@pytest.mark.django_db
@pytest.mark.parametrize("query, code", [
    ("start=2026-13-01", "validation_error"),
    ("start=yesterday", "validation_error"),
    ("interval=week", "validation_error"),
    ("start=2020-01-01&end=2024-01-01", "range_too_long"),
    ("start=2025-02-01&end=2025-01-01", "invalid_range"),
    ("end=2999-01-01", "invalid_range"),
])
def test_history_refuses_bad_ranges_in_the_error_envelope(client, owner, query, code):
    _, _, headers = owner
    response = client.get(f"/api/portfolio/history/?{query}", **headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


@pytest.mark.django_db
def test_history_queries_do_not_grow_with_days_or_rows(organization, client, owner):
    user, wallet, headers = owner
    today = timezone.localdate()
    for n in range(1, 4):
        price_record(organization=organization, symbol="ETH", price=D(2000 + n), day=today - dt.timedelta(days=n * 100))

    def measured(days):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/portfolio/history/?start={today - dt.timedelta(days=days)}", **headers)
        assert response.status_code == 200
        return len(captured.captured_queries), response.json()["points"]

    transaction_create(actor=wallet.user, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D("1"),
                       price_at_transaction=D("2000"), transaction_date=timezone.now() - dt.timedelta(days=400))
    short, points = measured(10)
    assert len(points) == 11
    for n in range(20):
        transaction_create(actor=wallet.user, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D("1"),
                           price_at_transaction=D("2000"), transaction_date=timezone.now() - dt.timedelta(days=n * 30))
    long, points = measured(3 * 365)
    assert long == short and len(points) == 3 * 365 + 1
    # 21 ETH today at the newest stored price (no latest quote: the newest daily one).
    assert D(points[0]["value"]) == 0 and D(points[-1]["value"]) == 21 * D("2001")


@pytest.mark.django_db
def test_portfolio_endpoints_are_in_the_openapi_schema(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/portfolio/", "/api/portfolio/value/", "/api/portfolio/allocation/", "/api/portfolio/performance/",
            "/api/portfolio/history/", "/api/exchange-rates/portfolio-value/"} <= set(paths)
    assert {p["name"] for p in paths["/api/portfolio/history/"]["get"]["parameters"]} == {"start", "end", "interval"}
