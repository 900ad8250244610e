"""The public payment page's WebSocket /ws/pay/<token>/ through the real ASGI app: no login, bound to
the token (an unknown token is closed with 4404 and joins nothing); it hears its own invoice's
payment being seen by the monitor and confirmed by settlement, after the commit, and nothing of
another invoice."""

from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from accounts.models import Role
from config.asgi import application
from core.realtime import relay_stop
from invoicing import services
from invoicing.models import Invoice
from wallets.models import (
    Cryptocurrency,
    PriceSource,
    Transaction,
    TransactionSource,
    TransactionStatus,
    TransactionType,
    TransferDirection,
    Wallet,
    WalletType,
)
from wallets.prices import price_record
from wallets.signals import transactions_changed_announce

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
_hashes = iter(range(1, 1000))


@pytest.fixture
async def stop_relay():
    yield
    await relay_stop()


def _shop(make_user, organization):
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "decimals": 18})
    price_record(symbol="ETH", price=Decimal("2500"), fiat="USD", source=PriceSource.COINGECKO)
    manager = make_user(Role.MANAGER)
    wallet = Wallet.objects.create(organization=organization, user=manager, name="Receivables",
                                   address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", wallet_type=WalletType.METAMASK)
    return manager, wallet


def _issued(manager, wallet, unit_price="1250.00"):
    draft = services.invoice_create(actor=manager, client_name="Globex", client_email="ap@globex.test",
                                    items=[{"description": "Work", "quantity": "2", "unit_price": unit_price}],
                                    payment_wallet_id=wallet.pk, crypto_currency="ETH")
    return services.invoice_issue(actor=manager, invoice=draft)


def _incoming(wallet, amount):
    """An incoming transfer as the wallet monitor records it, announced as the monitor does."""
    tx_hash = "0x" + f"{next(_hashes):064x}"
    Transaction.objects.create(
        transaction_type=TransactionType.TRANSFER, user=wallet.user, organization=wallet.organization, wallet=wallet,
        cryptocurrency=Cryptocurrency.objects.get(symbol="ETH"), amount=Decimal(amount), transaction_date=timezone.now(),
        hash=tx_hash, from_address="0x0000000000000000000000000000000000000001", to_address=wallet.address,
        source=TransactionSource.CHAIN, external_id=f"chain:{tx_hash}:-1:{wallet.address}",
        direction=TransferDirection.IN, status=TransactionStatus.CONFIRMED)
    transactions_changed_announce(user_id=wallet.user_id, after_commit=False)
    return tx_hash


async def _connect(token):
    communicator = WebsocketCommunicator(application, f"/ws/pay/{token}/", headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=60)
    assert connected
    return communicator


async def _event(communicator, event_type, timeout=60):
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == event_type:
            return message


async def test_an_unknown_token_is_closed_4404_and_joins_nothing(stop_relay):
    communicator = await _connect("x" * 32)
    message = await communicator.receive_output(timeout=60)
    assert message == {"type": "websocket.close", "code": 4404}


async def test_a_foreign_origin_is_refused(make_user, organization, stop_relay):
    manager, wallet = await database_sync_to_async(_shop)(make_user, organization)
    invoice = await database_sync_to_async(_issued)(manager, wallet)
    communicator = WebsocketCommunicator(application, f"/ws/pay/{invoice.payment_token}/",
                                         headers=[(b"origin", b"https://evil.example")])
    connected, _ = await communicator.connect(timeout=60)
    assert not connected


async def test_the_page_hears_its_payment_seen_then_confirmed_and_nothing_of_another_invoice(
        make_user, organization, stop_relay):
    manager, wallet = await database_sync_to_async(_shop)(make_user, organization)
    invoice = await database_sync_to_async(_issued)(manager, wallet)  # 2500 USD = 1 ETH
    other = await database_sync_to_async(_issued)(manager, wallet, unit_price="500.00")  # 0.4 ETH

    communicator = await _connect(invoice.payment_token)
    hello = await _event(communicator, "connected")
    assert hello["data"]["status"] == "SENT" and Decimal(hello["data"]["crypto_due"]) == Decimal("1")
    assert "Globex" not in str(hello) and invoice.invoice_number not in str(hello)  # the payer's view only
    await communicator.send_json_to({"type": "ping", "data": 1})
    assert (await _event(communicator, "pong"))["data"] == 1

    # The other invoice's payment: this page hears nothing of it.
    await database_sync_to_async(_incoming)(wallet, "0.4")
    await database_sync_to_async(services.invoices_settle_transfers)()
    assert await communicator.receive_nothing(timeout=2)

    tx_hash = await database_sync_to_async(_incoming)(wallet, "1")
    seen = await _event(communicator, "payment.seen")
    assert seen["data"]["tx_hash"] == tx_hash and Decimal(seen["data"]["amount"]) == Decimal("1")
    assert seen["data"]["status"] == "SENT"  # seen, not yet applied

    report = await database_sync_to_async(services.invoices_settle_transfers)()
    assert report.applied == 1
    confirmed = await _event(communicator, "payment.confirmed")
    assert confirmed["data"]["status"] == "PAID" and Decimal(confirmed["data"]["amount_due"]) == 0

    other_page = await _connect(other.payment_token)
    assert (await _event(other_page, "connected"))["data"]["status"] == "PAID"
    await other_page.disconnect()
    await communicator.disconnect()


async def test_a_requote_tells_the_page(make_user, organization, stop_relay):
    manager, wallet = await database_sync_to_async(_shop)(make_user, organization)
    invoice = await database_sync_to_async(_issued)(manager, wallet)
    communicator = await _connect(invoice.payment_token)
    await _event(communicator, "connected")

    def expire_and_requote():
        Invoice.objects.filter(pk=invoice.pk).update(crypto_valid_until=timezone.now())
        price_record(symbol="ETH", price=Decimal("2000"), fiat="USD", source=PriceSource.COINGECKO)
        return services.invoice_requote(actor=manager, invoice=Invoice.objects.get(pk=invoice.pk))

    await database_sync_to_async(expire_and_requote)()
    updated = await _event(communicator, "invoice.updated")
    assert Decimal(updated["data"]["crypto_due"]) == Decimal("1.25")  # 2500 USD at 2000
    await communicator.disconnect()
