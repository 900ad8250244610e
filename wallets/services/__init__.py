"""Writes of wallets: `<entity>_<action>(*, ...)`, validated; errors are core.errors domain errors
with a stable code.

Every write takes the acting member and checks what they may do with core.permissions
(`require` / `require_own`); what they may reach at all is decided before (the API and pages look
objects up through wallets.selectors, so another organization's object is a 404 there). Everything
written carries its organization: a wallet the actor's, a transaction or transfer its wallet's, an
alert its owner's.

One module per part, re-exported here (callers use `wallets.services.<name>`):
- `wallets`: create, change, delete a wallet, read its balances, monitor it, rotate key envelopes;
- `ownership`: the signed challenge that proves control of a wallet;
- `transactions`: manual transactions and corrections;
- `price_alerts`: price alerts and their periodic check.
Sends are in wallets.transfers, imports and exports in wallets.imports.
"""

from wallets.services.ownership import wallet_ownership_challenge, wallet_ownership_verify
from wallets.services.price_alerts import (
    price_alert_create,
    price_alert_delete,
    price_alert_fire,
    price_alert_update,
    price_alerts_check,
)
from wallets.services.transactions import transaction_create, transaction_delete, transaction_update
from wallets.services.wallets import (
    transfer_fee_bump_request,
    wallet_balance_refresh,
    wallet_balances_record,
    wallet_create,
    wallet_delete,
    wallet_keys_rotate,
    wallet_monitoring_enable,
    wallet_receive_request,
    wallet_update,
)

__all__ = [
    "price_alert_create",
    "price_alert_delete",
    "price_alert_fire",
    "price_alert_update",
    "price_alerts_check",
    "transaction_create",
    "transaction_delete",
    "transaction_update",
    "transfer_fee_bump_request",
    "wallet_balance_refresh",
    "wallet_balances_record",
    "wallet_create",
    "wallet_delete",
    "wallet_keys_rotate",
    "wallet_monitoring_enable",
    "wallet_ownership_challenge",
    "wallet_ownership_verify",
    "wallet_receive_request",
    "wallet_update",
]
