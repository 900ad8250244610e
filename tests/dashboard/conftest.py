"""Dashboard fixtures: an organization with a wallet history worked by hand (a buy last year, a buy and
a sale this year), a stored price, and the people who read it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from wallets.models import Cryptocurrency, WalletType
from wallets.prices import price_record
from wallets.services import transaction_create, wallet_create

D = Decimal


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def books(organization, make_user, settings):
    """Acme's books: an accountant's wallet with 2 ETH bought (1 at 1000 last year, 1 at 2000 this
    year), 0.5 sold this year at 3000 (FIFO: cost 500, gain 1000), ETH now at 4000."""
    settings.PRICE_API_BASE_URL = ""
    accountant = make_user(is_accountant=True)
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    wallet = wallet_create(user=accountant, name="treasury", wallet_type=WalletType.PRIVATE_KEY)
    now = timezone.now()
    last_year = dt.datetime(now.year - 1, 6, 1, tzinfo=dt.UTC)
    transaction_create(actor=accountant, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D("1"),
                       price_at_transaction=D("1000"), transaction_date=last_year)
    transaction_create(actor=accountant, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D("1"),
                       price_at_transaction=D("2000"), transaction_date=now - dt.timedelta(minutes=2))
    transaction_create(actor=accountant, wallet=wallet, asset="ETH", transaction_type="SELL", amount=D("0.5"),
                       price_at_transaction=D("3000"), transaction_date=now - dt.timedelta(minutes=1))
    price_record(organization=organization, symbol="ETH", price=D("4000"))
    return {"accountant": accountant, "wallet": wallet}
