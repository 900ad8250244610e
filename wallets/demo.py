"""Demo wallets: one Private Key wallet per demo manager/employee of the company ("Demo Books Ltd"),
funded on the local node, with about four months of history per wallet; and one wallet of the
outside client ("Orbit Analytics", user `client`) with a couple of transactions of its own, so the
separation of organizations is visible. Every wallet and row belongs to its owner's organization.
Idempotent: wallets by owner, funding only when the on-chain balance is zero, history rows by their
external_id (unique within the organization)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from core.localstack import ANVIL_DEV_CHAIN_ID
from core.money import quantize_fiat
from wallets import chain, external_ids
from wallets.models import (AlertDirection, Cryptocurrency, PriceAlert, PriceQuote, PriceSource, Transaction,
                            TransactionSource, TransactionType, TransferDirection, Wallet, WalletType)
from wallets.prices import price_record
from wallets.services import price_alert_create, wallet_create

FUNDING_ETH = {"manager": Decimal("20"), "employee1": Decimal("5"), "employee2": Decimal("5")}
# The outside client's one wallet (its own organization, made by accounts.demo).
CLIENT_USERNAME = "client"
CLIENT_FUNDING_ETH = Decimal("3")

# (days ago, type, ETH amount, USD price, description): a few months of plausible activity.
HISTORY = (
    (120, TransactionType.BUY, Decimal("2.5"), Decimal("2310.40"), "Treasury purchase"),
    (104, TransactionType.INCOME, Decimal("0.35"), Decimal("2402.15"), "Client payment, invoice INV-0007"),
    (93, TransactionType.EXPENSE, Decimal("0.12"), Decimal("2455.90"), "Cloud hosting"),
    (77, TransactionType.BUY, Decimal("1.2"), Decimal("2588.00"), "Treasury purchase"),
    (61, TransactionType.SELL, Decimal("0.8"), Decimal("2701.35"), "Sold to cover payroll"),
    (45, TransactionType.INCOME, Decimal("0.5"), Decimal("2650.80"), "Staking reward"),
    (30, TransactionType.EXPENSE, Decimal("0.07"), Decimal("2590.10"), "Software licences"),
    (14, TransactionType.SELL, Decimal("0.6"), Decimal("2744.60"), "Sold for operating cash"),
    (3, TransactionType.INCOME, Decimal("0.25"), Decimal("2801.25"), "Client payment, invoice INV-0012"),
)
CLIENT_HISTORY = (
    (90, TransactionType.BUY, Decimal("1.5"), Decimal("2480.00"), "Orbit Analytics: treasury purchase"),
    (20, TransactionType.INCOME, Decimal("0.4"), Decimal("2620.50"), "Orbit Analytics: customer payment"),
)


def load(report) -> None:
    eth, created = Cryptocurrency.objects.get_or_create(
        symbol="ETH", defaults={"name": "Ethereum", "decimals": 18, "price_api_id": "ethereum",
                                "current_price": Decimal("2801.25"), "last_updated": timezone.now()},
    )
    if created:
        report.count("cryptocurrencies")

    wallets = [_wallet_of(owner, f"{owner.first_name}'s ETH wallet", report)
               for owner in User.objects.filter(username__in=FUNDING_ETH).order_by("username")]
    client = User.objects.filter(username=CLIENT_USERNAME).first()
    if client is None or client.organization_id is None:
        report.skip(f"the outside client's wallet: no user {CLIENT_USERNAME!r} in an organization yet")
    else:
        wallets.append(_wallet_of(client, "Orbit treasury", report))

    _fund(wallets, eth, report)
    _history(wallets, eth, report)
    _alerts(report)


def _wallet_of(owner, name: str, report) -> Wallet:
    """The owner's first wallet in their organization, made if missing."""
    wallet = (Wallet.objects.for_organization(owner.organization_id).filter(user=owner)
              .select_related("user").order_by("created_at").first())
    if wallet is None:
        wallet = wallet_create(user=owner, name=name, wallet_type=WalletType.PRIVATE_KEY)
        report.count("wallets")
    return wallet


def _funding(wallet) -> Decimal:
    return FUNDING_ETH.get(wallet.user.username, CLIENT_FUNDING_ETH)


def _history_of(wallet) -> tuple:
    return CLIENT_HISTORY if wallet.user.username == CLIENT_USERNAME else HISTORY


def _fund(wallets, eth, report) -> None:
    """A real transfer from dev account 0 to each wallet whose on-chain balance is zero."""
    if settings.ETH_CHAIN_ID != ANVIL_DEV_CHAIN_ID:
        report.skip(f"funding wallets on chain: chain {settings.ETH_CHAIN_ID} is not the local dev chain "
                    f"({ANVIL_DEV_CHAIN_ID}); demo funds come only from its dev accounts")
        return
    try:
        w3 = chain.web3_client()
        treasury = chain.dev_account(0).address
        for wallet in wallets:
            if w3.eth.get_balance(wallet.address) > 0:
                continue
            amount = _funding(wallet)
            tx_hash = chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(amount))
            receipt = w3.eth.get_transaction_receipt(tx_hash)
            # Recorded as the wallet monitor would record it (same external_id), so it is never doubled.
            Transaction.objects.create(
                transaction_type=TransactionType.TRANSFER, user=wallet.user, organization_id=wallet.organization_id,
                wallet=wallet, cryptocurrency=eth,
                amount=amount, transaction_date=timezone.now(), direction=TransferDirection.IN, hash=tx_hash,
                block_number=receipt["blockNumber"], from_address=treasury, to_address=wallet.address,
                description="Opening balance from the treasury (dev chain)", source=TransactionSource.CHAIN,
                external_id=external_ids.chain_external_id(tx_hash=tx_hash, log_index=external_ids.NATIVE_LOG_INDEX,
                                                              address=wallet.address),
            )
            Wallet.objects.filter(pk=wallet.pk).update(balance=chain.eth_balance(wallet.address))
            report.count("on-chain fundings")
    except chain.ChainError as exc:
        report.skip(f"funding wallets on chain: {exc}")


def _history(wallets, eth, report) -> None:
    wanted = {f"demo:{w.user.username}:{n}": (w, row) for w in wallets for n, row in enumerate(_history_of(w))}
    existing = set()
    for organization_id in {w.organization_id for w in wallets}:
        existing |= set(Transaction.objects.for_organization(organization_id).filter(
            external_id__in=list(wanted)).values_list("external_id", flat=True))
    today = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    rows = []
    for external_id, (wallet, (days_ago, kind, amount, price, description)) in wanted.items():
        if external_id in existing:
            continue
        value = quantize_fiat(amount * price)  # to cents
        rows.append(Transaction(
            transaction_type=kind, user=wallet.user, organization_id=wallet.organization_id, wallet=wallet,
            cryptocurrency=eth, amount=amount,
            price_at_transaction=price, eth_usd_rate=price, usd_value=value,
            total_cost_usd=value if kind == TransactionType.BUY else None,
            transaction_date=today - dt.timedelta(days=days_ago), rate_timestamp=today - dt.timedelta(days=days_ago),
            description=description, source=TransactionSource.DEMO, external_id=external_id,
            is_business_expense=True if kind == TransactionType.EXPENSE else None,
        ))
    if rows:
        Transaction.objects.bulk_create(rows)
        report.count("transactions", len(rows))
    _prices(rows, eth, report)


def _prices(rows, eth, report) -> None:
    """The demo's ETH prices as stored quotes (daily closes on the new rows' days, and a latest), so
    portfolio values work offline. Source "demo": never mistaken for the price API's; shared by
    every organization like market data."""
    days = {(row.transaction_date.date(), row.price_at_transaction) for row in rows}
    for day, price in sorted(days):
        price_record(symbol=eth.symbol, price=price, day=day, source=PriceSource.DEMO)
    if days:
        report.count("price quotes", len({day for day, _ in days}))
    if not PriceQuote.objects.for_organization(None).filter(symbol=eth.symbol, day__isnull=True).exists():
        price_record(symbol=eth.symbol, price=HISTORY[-1][3], source=PriceSource.DEMO)
        report.count("price quotes")


def _alerts(report) -> None:
    """One armed price alert for the demo manager (ETH above 3000 USD; the demo price is 2801.25)."""
    manager = User.objects.filter(username="manager").first()
    if manager is None or PriceAlert.objects.filter(user=manager).exists():
        return
    price_alert_create(user=manager, symbol="ETH", direction=AlertDirection.ABOVE, threshold=Decimal("3000"),
                       fiat=settings.REPORTING_FIAT)
    report.count("price alerts")
