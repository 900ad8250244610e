"""The one EIP-681 format (wallets.payment_requests): ETH and ERC-20, with and without an amount, and
that both users of it (the wallet's receive request and an invoice's payment request) give the same
URI for the same request."""

from decimal import Decimal

import pytest

from invoicing.services.crypto import eip681_uri as invoice_uri
from wallets.models import Cryptocurrency, Wallet, WalletType
from wallets.payment_requests import PaymentRequestError, eip681_uri, units_of
from wallets.services.wallets import wallet_receive_request

TO = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"


def test_eth_with_and_without_an_amount():
    assert eip681_uri(to=TO, chain_id=31337) == f"ethereum:{TO}@31337"
    assert eip681_uri(to=TO, chain_id=1, units=144_000_000_000_000_000) == f"ethereum:{TO}@1?value=144000000000000000"
    assert eip681_uri(to=TO, chain_id=1, units=0) == f"ethereum:{TO}@1?value=0"


def test_an_erc20_transfer_with_and_without_an_amount():
    assert eip681_uri(to=TO, chain_id=1, token_contract=USDC) == f"ethereum:{USDC}@1/transfer?address={TO}"
    assert (eip681_uri(to=TO, chain_id=10, token_contract=USDC, units=2_500_000)
            == f"ethereum:{USDC}@10/transfer?address={TO}&uint256=2500000")


def test_units_of_is_exact_and_refuses_what_is_not_whole():
    assert units_of(Decimal("0.144"), 18) == 144_000_000_000_000_000
    assert units_of(Decimal("2.5"), 6) == 2_500_000
    assert units_of(Decimal("0"), 6) == 0
    assert units_of(Decimal("1234567.123456789012345678"), 18) == 1234567123456789012345678
    for bad in (Decimal("0.0000001"), Decimal("-1"), Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(PaymentRequestError):
            units_of(bad, 6)


def test_bad_requests_are_refused():
    for kwargs in ({"to": "", "chain_id": 1}, {"to": TO, "chain_id": 0}, {"to": TO, "chain_id": 1, "units": -1},
                   {"to": TO, "chain_id": 1, "units": 1.5}, {"to": TO, "chain_id": 1, "units": True}):
        with pytest.raises(PaymentRequestError):
            eip681_uri(**kwargs)


@pytest.mark.django_db
def test_the_wallet_receive_request_and_the_invoice_request_agree(make_user, settings):
    user = make_user()
    wallet = Wallet.objects.create(organization_id=user.organization_id, user=user, name="Receivables", address=TO,
                                   wallet_type=WalletType.METAMASK)
    eth, _ = Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "decimals": 18})
    token, _ = Cryptocurrency.objects.get_or_create(symbol="USDX", defaults={
        "name": "Test dollar", "decimals": 6, "contract_address": USDC})
    for asset, amount in ((eth, "0.144"), (token, "2.5")):
        received = wallet_receive_request(wallet=wallet, asset=asset.symbol, amount=amount)["uri"]
        assert received == invoice_uri(address=TO, asset=asset, amount=Decimal(amount))
        assert received == eip681_uri(to=TO, chain_id=settings.ETH_CHAIN_ID, token_contract=asset.contract_address,
                                      units=units_of(Decimal(amount), asset.decimals))
