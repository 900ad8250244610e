"""The one format of a payment request (EIP-681): the URI a wallet app opens (or a QR code holds) to
pay an address. Used by the wallet's receive page (wallets.services.wallets.wallet_receive_request)
and by invoices (invoicing.services.crypto). Pure: no Django, no database.

- the chain's own coin (ETH): `ethereum:<to>@<chain id>[?value=<wei>]`;
- an ERC-20 token: `ethereum:<token contract>@<chain id>/transfer?address=<to>[&uint256=<units>]`.

Amounts are whole base units (wei, or the token's smallest unit); `units_of` converts an exact
Decimal amount of the asset into them.
"""

from __future__ import annotations

from decimal import Decimal


class PaymentRequestError(ValueError):
    """An amount that is not a whole, non-negative number of base units."""


def units_of(amount: Decimal, decimals: int) -> int:
    """`amount` of an asset with `decimals` decimals in base units; refuses what is not whole there
    (no silent rounding of what a payer is asked) or is negative or not finite."""
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    if not amount.is_finite() or amount < 0:
        raise PaymentRequestError(f"{amount} is not a payable amount.")
    scaled = amount.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise PaymentRequestError(f"{amount} has more than {decimals} decimals.")
    return int(scaled)


def eip681_uri(*, to: str, chain_id: int, token_contract: str = "", units: int | None = None) -> str:
    """The EIP-681 URI asking to pay `to` on chain `chain_id`: ETH when `token_contract` is empty,
    else a `transfer` call of that ERC-20 contract; `units` (base units) is the amount asked, or
    None to leave it to the payer."""
    if not to or not chain_id:
        raise PaymentRequestError("A payment request needs an address and a chain id.")
    if units is not None and (not isinstance(units, int) or isinstance(units, bool) or units < 0):
        raise PaymentRequestError(f"{units!r} is not a whole number of base units.")
    if token_contract:
        return (f"ethereum:{token_contract}@{int(chain_id)}/transfer?address={to}"
                + (f"&uint256={units}" if units is not None else ""))
    return f"ethereum:{to}@{int(chain_id)}" + (f"?value={units}" if units is not None else "")
