"""Proving control of a wallet: a single-use challenge (EIP-191 personal_sign) and its check."""

from __future__ import annotations

import datetime as dt
import secrets

from django.utils import timezone
from eth_account import Account
from eth_account.messages import encode_defunct

from core import permissions
from core.errors import ErrorCode, Forbidden, InvalidInput, InvalidRequest
from wallets.models import Wallet

OWNERSHIP_CHALLENGE_TTL = dt.timedelta(minutes=5)


def ownership_message(address: str, nonce: str) -> str:
    return f"Crypto Books: I control {address}. Nonce: {nonce}"


def wallet_ownership_challenge(*, actor, wallet: Wallet) -> str:
    """A message for the wallet's owner to sign (EIP-191 personal_sign); single use, 5 minutes."""
    permissions.require_own(actor, wallet)
    permissions.require(permissions.can_manage_wallet(actor, wallet),
                        "Only the wallet's owner or a manager can prove its ownership.")
    nonce = secrets.token_hex(16)
    expires = timezone.now() + OWNERSHIP_CHALLENGE_TTL
    Wallet.objects.filter(pk=wallet.pk).update(ownership_nonce=nonce, ownership_nonce_expires=expires)
    return ownership_message(wallet.address, nonce)


def wallet_ownership_verify(*, actor, wallet: Wallet, signature: str) -> Wallet:
    permissions.require_own(actor, wallet)
    permissions.require(permissions.can_manage_wallet(actor, wallet),
                        "Only the wallet's owner or a manager can prove its ownership.")
    wallet.refresh_from_db()
    if not wallet.ownership_nonce or not wallet.ownership_nonce_expires or wallet.ownership_nonce_expires < timezone.now():
        raise InvalidRequest(ErrorCode.NO_CHALLENGE, "Ask for a new challenge first; the last one expired or was used.")
    message = encode_defunct(text=ownership_message(wallet.address, wallet.ownership_nonce))
    try:
        signer = Account.recover_message(message, signature=signature)
    except Exception:
        raise InvalidInput(ErrorCode.INVALID_SIGNATURE, "The signature is malformed.") from None
    if signer != wallet.address:
        raise Forbidden(ErrorCode.WRONG_SIGNER, "The message was not signed by this wallet's key.")
    used = Wallet.objects.filter(pk=wallet.pk, ownership_nonce=wallet.ownership_nonce).update(
        ownership_nonce="", ownership_nonce_expires=None, last_authenticated=timezone.now())
    if not used:
        raise InvalidRequest(ErrorCode.NO_CHALLENGE, "This challenge was already used.")
    wallet.refresh_from_db()
    return wallet
