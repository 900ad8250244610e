"""Fixtures of the classification tests: an organization with an accountant, a manager, a plain
member, two wallets, and chain rows from known counterparties (valued, so every label can be booked).

The classification receivers need no fixture: ai_audit's AppConfig.ready() connects them
(ai_audit.classification.tasks.signals_connect) in every process."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from accounts.models import Role
from wallets.models import Cryptocurrency, Transaction, WalletType
from wallets.services import wallet_create

VENDOR = "0x" + "a1" * 20
CLIENT = "0x" + "b2" * 20
_hashes = itertools.count(1)


class Books:
    def __init__(self, organization, accountant, manager, member, wallet, spare, eth, usdc, client, tokens):
        self.organization, self.accountant, self.manager, self.member = organization, accountant, manager, member
        self.wallet, self.spare, self.eth, self.usdc, self.client, self.tokens = wallet, spare, eth, usdc, client, tokens
        self.day = itertools.count(1)

    def call(self, who, method, path, data=None):
        return getattr(self.client, method)(path, data, content_type="application/json",
                                            HTTP_AUTHORIZATION=f"Bearer {self.tokens[who]}")

    def chain_row(self, *, direction="out", counterparty=VENDOR, amount="120", asset=None, usd_value="120",
                  description="", fee="0.001", wallet=None) -> Transaction:
        wallet = wallet or self.wallet
        n = next(_hashes)
        tx_hash = "0x" + f"{n:064x}"
        outgoing = direction == "out"
        return Transaction.objects.create(
            transaction_type="TRANSFER", wallet=wallet, cryptocurrency=asset or self.usdc, amount=Decimal(amount),
            transaction_date=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC) + dt.timedelta(days=next(self.day)),
            source="chain", hash=tx_hash, external_id=f"chain:{tx_hash}:-1:{wallet.address}", direction=direction,
            from_address=wallet.address if outgoing else counterparty,
            to_address=counterparty if outgoing else wallet.address,
            usd_value=Decimal(usd_value) if usd_value is not None else None,
            fee=Decimal(fee) if outgoing else Decimal(0), description=description, status="CONFIRMED")


@pytest.fixture
def books(make_user, organization, client, access_token_for):
    eth = Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})[0]
    usdc = Cryptocurrency.objects.get_or_create(symbol="USDC", defaults={
        "name": "USD Coin", "decimals": 6, "contract_address": "0x" + "c" * 40})[0]
    manager = make_user(role=Role.MANAGER)
    accountant = make_user(is_accountant=True)
    member = make_user()
    wallet = wallet_create(user=manager, name="treasury", wallet_type=WalletType.PRIVATE_KEY)
    spare = wallet_create(user=manager, name="spare", wallet_type=WalletType.PRIVATE_KEY)
    tokens = {"accountant": access_token_for(accountant), "manager": access_token_for(manager),
              "member": access_token_for(member)}
    return Books(organization, accountant, manager, member, wallet, spare, eth, usdc, client, tokens)
