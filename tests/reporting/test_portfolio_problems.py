"""Issue 19 item 6 for the portfolio: data problems degrade, they do not block. Costable trades give
cost and P&L as before; an uncostable one (no fiat value, a sale of more than held) is listed under
`problems`, its asset keeps its quantity and value with its cost unknown (null); the totals say what
they count (reporting.portfolio's docstring has the rule)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils.html import escape

from wallets.models import Cryptocurrency, Transaction, WalletType
from wallets.prices import price_record
from wallets.services import transaction_create, wallet_create

pytestmark = pytest.mark.django_db
D = Decimal
WHEN = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def owner(organization, make_user, access_token_for, settings):
    settings.PRICE_API_BASE_URL = ""
    user = make_user()
    for symbol in ("ETH", "BTC"):
        Cryptocurrency.objects.create(name=symbol, symbol=symbol)
    wallet = wallet_create(user=user, name="w", wallet_type=WalletType.PRIVATE_KEY)
    price_record(organization=organization, symbol="ETH", price=D("2000"))
    price_record(organization=organization, symbol="BTC", price=D("50000"))

    def record(asset, kind, amount, price, days_before):
        return transaction_create(actor=user, wallet=wallet, asset=asset, transaction_type=kind, amount=D(amount),
                                  price_at_transaction=D(price), transaction_date=WHEN - dt.timedelta(days=days_before))

    return user, wallet, record, {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(user)}"}


def _store_unvalued_buy(user, wallet, asset, amount, days_before):
    """Old data: a buy without any value, stored directly (input validation refuses it today)."""
    return Transaction.objects.create(
        transaction_type="BUY", user=user, organization=user.organization, wallet=wallet,
        cryptocurrency=Cryptocurrency.objects.get(symbol=asset), amount=D(amount), source="manual",
        status="CONFIRMED", transaction_date=WHEN - dt.timedelta(days=days_before))


def test_an_uncostable_trade_leaves_the_other_assets_as_they_were(client, owner):
    user, wallet, record, headers = owner
    record("BTC", "BUY", "1", "30000", 20)
    record("ETH", "BUY", "2", "1000", 30)
    bad = _store_unvalued_buy(user, wallet, "ETH", "1", 25)
    record("ETH", "SELL", "0.5", "1800", 10)

    response = client.get("/api/portfolio/value/", **headers)
    assert response.status_code == 200
    body = response.json()
    (problem,) = body["problems"]
    assert problem["transactions"] == [str(bad.pk)] and problem["assets"] == ["ETH"]
    assert "sent_amount" in problem["reason"] and not problem["reason"].startswith("trade #")
    positions = {p["asset"]: p for p in client.get("/api/portfolio/", **headers).json()}
    # BTC: cost and P&L as before.
    assert positions["BTC"]["cost_known"] is True and D(positions["BTC"]["total_invested"]) == 30000
    assert D(positions["BTC"]["unrealized_gain_loss"]) == 20000
    # ETH: every movement the rows describe is held (2 + 1 - 0.5), valued; its cost unknown.
    eth = positions["ETH"]
    assert D(eth["quantity"]) == D("2.5") and D(eth["current_value"]) == 5000
    assert (eth["cost_known"], eth["total_invested"], eth["average_buy_price"], eth["unrealized_gain_loss"],
            eth["realized_gain_loss"]) == (False, None, None, None, None)
    # Totals say what they count: value of everything priced = costed invested + P&L + value without cost.
    assert D(body["total_value"]) == 55000 and D(body["value_without_cost"]) == 5000
    assert (D(body["total_invested"]), D(body["unrealized_gain_loss"]), D(body["realized_gain_loss"])) == (
        30000, 20000, 0)


def test_fixing_the_row_brings_the_cost_back(client, owner):
    user, wallet, record, headers = owner
    record("ETH", "BUY", "2", "1000", 30)
    bad = _store_unvalued_buy(user, wallet, "ETH", "1", 25)
    assert client.get("/api/portfolio/value/", **headers).json()["problems"]
    # The fix as a person makes it: the row's price, through the API.
    fixed = client.put(f"/api/transactions/{bad.pk}/", {"price_at_transaction": "1500"},
                       content_type="application/json", **headers)
    assert fixed.status_code == 200, fixed.content
    body = client.get("/api/portfolio/value/", **headers).json()
    assert body["problems"] == [] and D(body["total_invested"]) == 3500 and D(body["value_without_cost"]) == 0
    assert client.get("/api/portfolio/", **headers).json()[0]["cost_known"] is True


def test_an_oversold_asset_is_not_shown_held_but_its_problem_is(client, owner):
    _, _, record, headers = owner
    record("BTC", "BUY", "1", "30000", 20)
    record("ETH", "BUY", "1", "1000", 30)
    record("ETH", "SELL", "3", "1800", 10)
    body = client.get("/api/portfolio/value/", **headers).json()
    assert [p["assets"] for p in body["problems"]] == [["ETH"]] and "insufficient ETH" in body["problems"][0]["reason"]
    assert [p["asset"] for p in client.get("/api/portfolio/", **headers).json()] == ["BTC"]
    assert D(body["total_value"]) == 50000 and D(body["total_invested"]) == 30000


def test_as_of_a_day_before_the_problem_there_is_none(client, owner):
    from reporting.portfolio import portfolio_value_for

    user, wallet, record, _ = owner
    record("ETH", "BUY", "2", "1000", 30)
    _store_unvalued_buy(user, wallet, "ETH", "1", 5)
    before = portfolio_value_for(user, as_of=(WHEN - dt.timedelta(days=10)).date())
    assert before["problems"] == [] and before["positions"][0]["cost_known"] is True
    after = portfolio_value_for(user, as_of=WHEN.date())
    assert len(after["problems"]) == 1 and after["positions"][0]["total_invested"] is None


def test_the_page_lists_the_problems_and_shows_cost_unknown(client, owner):
    user, wallet, record, _ = owner
    record("BTC", "BUY", "1", "30000", 20)
    _store_unvalued_buy(user, wallet, "ETH", "1", 25)
    client.force_login(user)
    page = client.get("/app/portfolio/")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="portfolio-problems"' in html and "cost unknown" in html
    assert 'id="portfolio-cost-basis-error"' not in html
    reason = client.get("/api/portfolio/value/",
                        HTTP_AUTHORIZATION=owner[3]["HTTP_AUTHORIZATION"]).json()["problems"][0]["reason"]
    assert escape(reason) in html
