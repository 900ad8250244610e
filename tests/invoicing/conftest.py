"""Invoicing fixtures: the main organization ("Acme", with its default chart), API callers of each
role, ETH with a current price, and a receiving wallet of the organization."""

from decimal import Decimal

import pytest

from accounts.models import Role
from wallets.models import Cryptocurrency, PriceSource, Wallet, WalletType
from wallets.prices import price_record


class Caller:
    def __init__(self, client, user, token):
        self.client, self.user, self.token = client, user, token

    def __call__(self, method, path, data=None):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        if method == "get":
            return self.client.get(path, data or {}, **kwargs)
        if method == "delete":
            return self.client.delete(path, **kwargs)
        return getattr(self.client, method)(path, data, content_type="application/json", **kwargs)


@pytest.fixture
def api_as(make_user, access_token_for, client):
    def make(role=Role.USER, **fields):
        user = make_user(role=role, **fields)
        return Caller(client, user, access_token_for(user))

    return make


@pytest.fixture
def manager_api(api_as):
    return api_as(Role.MANAGER)


@pytest.fixture
def accountant_api(api_as):
    return api_as(Role.USER, is_accountant=True)


@pytest.fixture
def user_api(api_as):
    return api_as(Role.USER)


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER)


@pytest.fixture
def eth(db):
    asset, _ = Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "decimals": 18})
    price_record(symbol="ETH", price=Decimal("2500"), fiat="USD", source=PriceSource.COINGECKO)
    return asset


@pytest.fixture
def receiving_wallet(organization, make_user):
    owner = make_user(Role.MANAGER)
    return Wallet.objects.create(organization=organization, user=owner, name="Receivables",
                                 address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", wallet_type=WalletType.METAMASK)


def item(description="Consulting", quantity="2", unit_price="150.00", **extra):
    return {"description": description, "quantity": quantity, "unit_price": unit_price, **extra}


def invoice_body(**fields):
    body = {"client_name": "Globex Corp", "client_email": "ap@globex.test", "client_address": "1 Main St\nSpringfield",
            "items": [item()], "tax_rate": "20"}
    body.update(fields)
    return body
