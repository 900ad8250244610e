"""Invoicing fixtures: the main organization ("Acme", with its default chart), API callers of each
role, ETH with a current price, and a receiving wallet of the organization."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from wallets.external_ids import chain_external_id
from wallets.models import (
    Cryptocurrency, PriceSource, Transaction, TransactionSource, TransactionStatus, TransactionType,
    TransferDirection, Wallet, WalletType,
)
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


def issued_invoice(manager, wallet, *, quantity="2", unit_price="1250.00"):
    """An issued ETH invoice on `wallet`: 2 x 1250 USD = 1 ETH at the fixtures' 2500."""
    from invoicing import services

    draft = services.invoice_create(actor=manager, client_name="Globex", items=[item(quantity=quantity, unit_price=unit_price)],
                                    payment_wallet_id=wallet.pk, crypto_currency="ETH")
    return services.invoice_issue(actor=manager, invoice=draft)


def quote_expire(invoice):
    """The invoice with its crypto quote run out a second ago."""
    from invoicing.models import Invoice

    Invoice.objects.filter(pk=invoice.pk).update(crypto_valid_until=timezone.now() - dt.timedelta(seconds=1))
    return Invoice.objects.get(pk=invoice.pk)


_transfer_numbers = itertools.count(1)


def incoming_transfer(wallet, asset, amount, *, paid_at=None):
    """An incoming transfer as the wallet monitor records it (source chain, direction in)."""
    tx_hash = "0x" + f"{next(_transfer_numbers):064x}"
    return Transaction.objects.create(
        transaction_type=TransactionType.TRANSFER, user=wallet.user, organization=wallet.organization, wallet=wallet,
        cryptocurrency=asset, amount=Decimal(amount), transaction_date=paid_at or timezone.now(), hash=tx_hash,
        from_address="0x0000000000000000000000000000000000000001", to_address=wallet.address,
        source=TransactionSource.CHAIN, external_id=chain_external_id(tx_hash=tx_hash, log_index=-1, address=wallet.address),
        direction=TransferDirection.IN, status=TransactionStatus.CONFIRMED)
