"""Per-user tax settings on the profile: reporting fiat, cost-basis method and lot scope."""

import datetime as dt
from decimal import Decimal


def _put(client, token, body):
    return client.put("/api/auth/profile/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_defaults_and_changes(client, make_user, access_token_for):
    user = make_user()
    token = access_token_for(user)
    profile = client.get("/api/auth/profile/", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert (profile["reporting_fiat"], profile["cost_basis_method"], profile["cost_basis_lot_scope"]) == ("USD", "fifo", "all")

    response = _put(client, token, {"reporting_fiat": "eur", "cost_basis_method": "uk", "cost_basis_lot_scope": "wallet"})
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert (user.reporting_fiat, user.cost_basis_method, user.cost_basis_lot_scope) == ("EUR", "uk", "wallet")


def test_bad_values_are_422_and_change_nothing(client, make_user, access_token_for):
    user = make_user()
    token = access_token_for(user)
    for body in ({"cost_basis_method": "random"}, {"cost_basis_lot_scope": "exchange"}, {"reporting_fiat": "BTC"},
                 {"reporting_fiat": "US"}):
        response = _put(client, token, body)
        assert response.status_code == 422, body
        assert "error" in response.json()
    user.refresh_from_db()
    assert (user.reporting_fiat, user.cost_basis_method, user.cost_basis_lot_scope) == ("USD", "fifo", "all")


def test_fiat_cannot_change_once_transactions_exist(client, make_user, access_token_for):
    from wallets.models import Cryptocurrency, Transaction

    user = make_user()
    token = access_token_for(user)
    eth = Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ether"})[0]
    Transaction.objects.create(transaction_type="BUY", user=user, cryptocurrency=eth, amount=Decimal("1"),
                               usd_value=Decimal("2000"), transaction_date=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    response = _put(client, token, {"reporting_fiat": "EUR"})
    assert response.status_code == 422
    assert "reporting_fiat" in str(response.json()["error"])
    assert _put(client, token, {"reporting_fiat": "USD", "cost_basis_method": "hifo"}).status_code == 200
    user.refresh_from_db()
    assert (user.reporting_fiat, user.cost_basis_method) == ("USD", "hifo")
