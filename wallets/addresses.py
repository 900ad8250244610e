"""Ethereum addresses as the app stores them: the one place an address is checked and put in its
EIP-55 form (wallets, transactions, sends and gas estimates all go through it)."""

from __future__ import annotations

from eth_utils import is_address, is_checksum_address, to_checksum_address

from core.errors import ErrorCode, InvalidInput

ZERO_ADDRESS = "0x" + "0" * 40


def address_normalise(address: str, *, zero_allowed: bool = False) -> str:
    """EIP-55 form of a valid address. All-lowercase or all-uppercase input is accepted; mixed case
    must be a correct checksum (a typo in a checksummed address is caught, not silently 'fixed').
    The zero address (no one holds its key: what is sent there is burnt) is refused as a wallet or a
    recipient; `zero_allowed` only where it is a record of what happened (a mint comes from it)."""
    address = (address or "").strip()
    if not is_address(address) and not (address.startswith("0x") and len(address) == 42):
        raise InvalidInput(ErrorCode.INVALID_ADDRESS, "Not an Ethereum address.", {"address": address[:64]})
    body = address[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(address):
        raise InvalidInput(ErrorCode.BAD_CHECKSUM, "The address's mixed-case checksum is wrong (EIP-55).",
                           {"address": address})
    if not is_address(address.lower()):
        raise InvalidInput(ErrorCode.INVALID_ADDRESS, "Not an Ethereum address.", {"address": address[:64]})
    if address.lower() == ZERO_ADDRESS and not zero_allowed:
        raise InvalidInput(ErrorCode.ZERO_ADDRESS, "The zero address cannot hold funds: anything sent there is "
                           "lost.", {"address": ZERO_ADDRESS})
    return to_checksum_address(address.lower())
