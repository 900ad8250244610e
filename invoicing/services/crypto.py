"""Crypto payment terms of an invoice: the receiving wallet and asset (ETH or a tracked ERC-20), the
quote taken when the invoice is issued (rate, its source, the crypto amount and its validity window),
the EIP-681 payment request and its QR code.

Matching rule for two open invoices with the same amount on the same address (documented in
invoicing.services.payments): the crypto amount asked is rounded to 8 decimals, and while another
open invoice of the organization already asks the same address for the same amount in the same asset,
the new one is nudged up by one unit of the 8th decimal (1e-8: "dust"). The open (address, asset,
amount) triple is the invoice's `payment_slot`, unique in the organization, so even two issues at
the same moment cannot ask the same amount: an exact transfer identifies exactly one invoice.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal

import segno
from django.conf import settings
from django.utils import timezone

from core.errors import Conflict, ErrorCode, InvalidInput, NotFound
from core.money import plain
from invoicing.models import CRYPTO_QUOTE_PLACES
from invoicing.totals import crypto_amount as crypto_amount_for
from wallets import networks, payment_requests, prices
from wallets.models import Cryptocurrency, PriceQuote, Wallet

QUOTE_PLACES = CRYPTO_QUOTE_PLACES
DUST = Decimal(1).scaleb(-QUOTE_PLACES)
QUOTE_VALID_SECONDS = getattr(settings, "INVOICE_CRYPTO_QUOTE_SECONDS", 24 * 3600)


def payment_asset_get(symbol: str) -> Cryptocurrency:
    """ETH or an ERC-20 token tracked by the monitor (one with a contract address)."""
    symbol = (symbol or "").strip().upper()
    asset = Cryptocurrency.objects.filter(symbol=symbol, is_active=True).first()
    if asset is None or (symbol != "ETH" and not asset.contract_address):
        raise InvalidInput(ErrorCode.UNKNOWN_ASSET, f"{symbol or 'That asset'} is not a payment asset (ETH or a tracked ERC-20 token).",
                           {"crypto_currency": symbol})
    return asset


def payment_wallet_get(organization_id, wallet_id) -> Wallet:
    wallet = Wallet.objects.for_organization(organization_id).filter(pk=wallet_id, is_active=True).first()
    if wallet is None:
        raise InvalidInput(ErrorCode.UNKNOWN_WALLET, "No such active wallet in the organization.",
                           {"payment_wallet_id": str(wallet_id)})
    networks.default_network_required(wallet, "Invoices")
    return wallet


def quote(*, organization_id, symbol: str, fiat: str, total: Decimal) -> dict:
    """The rate of the moment (the newest quote the organization sees) and the amount it makes."""
    asset = payment_asset_get(symbol)
    try:
        rate = prices.price_current(symbol=asset.symbol, fiat=fiat, organization=organization_id)
    except NotFound:
        raise Conflict(ErrorCode.NO_PRICE, f"No {fiat} price for {asset.symbol}: enter one or configure a price API.",
                       {"crypto_currency": asset.symbol}) from None
    if rate is None or rate <= 0:
        raise Conflict(ErrorCode.NO_PRICE, f"No positive {fiat} price for {asset.symbol}.", {})
    # The quote the price came from (the newest of that price): its source is stored with the rate.
    source = (PriceQuote.objects.for_organization(organization_id).filter(symbol=asset.symbol, fiat=fiat, price=rate)
              .order_by("-fetched_at").values_list("source", flat=True).first()) or "price store"
    now = timezone.now()
    return {"asset": asset, "rate": rate, "source": source, "at": now,
            "valid_until": now + dt.timedelta(seconds=QUOTE_VALID_SECONDS),
            "amount": crypto_amount_for(total, rate, decimals=asset.decimals, places=QUOTE_PLACES)}


def quote_expired(invoice, now: dt.datetime | None = None) -> bool:
    """Whether the invoice's crypto quote is past its validity window (no quote: False)."""
    if invoice.crypto_amount is None or invoice.crypto_valid_until is None:
        return False
    return (now or timezone.now()) >= invoice.crypto_valid_until


def slot_of(address: str, symbol: str, amount: Decimal) -> str:
    return f"{address.lower()}:{symbol}:{plain(amount)}"


def free_amount(taken_slots: set[str], address: str, symbol: str, amount: Decimal) -> Decimal:
    """`amount`, or the first amount above it by steps of DUST that no open invoice asks for."""
    while slot_of(address, symbol, amount) in taken_slots:
        amount += DUST
    return amount


def eip681_uri(*, address: str, asset: Cryptocurrency, amount: Decimal, chain_id: int | None = None) -> str:
    """The invoice's payment request in the one EIP-681 format (wallets.payment_requests), asking
    `amount` of `asset` in its base units (cut to the asset's decimals, as a wallet can send)."""
    whole = amount.quantize(Decimal(1).scaleb(-asset.decimals), rounding=ROUND_DOWN)
    return payment_requests.eip681_uri(to=address, chain_id=chain_id or settings.ETH_CHAIN_ID,
                                       token_contract=asset.contract_address or "",
                                       units=payment_requests.units_of(whole, asset.decimals))


def invoice_payment_uri(invoice) -> str:
    if not invoice.crypto_payment_address or invoice.crypto_amount is None:
        return ""
    asset = Cryptocurrency.objects.filter(symbol=invoice.crypto_currency).first()
    if asset is None:
        return ""
    return eip681_uri(address=invoice.crypto_payment_address, asset=asset, amount=invoice.crypto_due or invoice.crypto_amount)


def qr_svg(uri: str, *, scale: int = 4) -> str:
    """The QR code of `uri` as inline SVG (pages)."""
    return segno.make(uri, error="m").svg_inline(scale=scale) if uri else ""


def qr_png_data_uri(uri: str, *, scale: int = 5) -> str:
    """The QR code of `uri` as a PNG data URI (the PDF)."""
    return segno.make(uri, error="m").png_data_uri(scale=scale) if uri else ""
