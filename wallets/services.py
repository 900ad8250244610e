"""Writes for wallets: `<entity>_<action>(*, ...)`, validated and transactional."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from eth_account import Account

from wallets.keystore import private_key_encrypt
from wallets.models import Wallet, WalletType

logger = logging.getLogger(__name__)


class WalletLimitReached(ValidationError):
    pass


def wallet_create_with_new_key(*, user, name: str) -> Wallet:
    """A Private Key wallet with a freshly generated key, stored only encrypted."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "a wallet needs a name of 1-100 characters"})
    from accounts.employees import employee_can_hold_funds

    if not employee_can_hold_funds(user):
        raise ValidationError({"user": "your manager has not verified your account yet"})
    if Wallet.objects.filter(user=user).count() >= user.max_wallets:
        raise WalletLimitReached(f"you already have the maximum of {user.max_wallets} wallets")
    account = Account.create()
    wallet = Wallet(
        name=name,
        address=account.address,  # eth_account gives the EIP-55 checksum form
        user=user,
        wallet_type=WalletType.PRIVATE_KEY,
        encrypted_private_key=private_key_encrypt(account.key.to_0x_hex()),
    )
    try:
        wallet.save()
    except IntegrityError:
        raise ValidationError({"address": "this address is already registered"}) from None
    logger.info("wallet created id=%s user=%s address=%s", wallet.pk, user.pk, wallet.address)
    return wallet
