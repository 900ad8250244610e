"""Live events of wallets and transactions, published after the write commits (core.realtime).

An event reaches only those who could read the same object over HTTP: the wallet's owner
(`user_group`) and the organization's books roles (`organization_group(org, Audience.BOOKS)`, who
see every wallet of it). Never an installation-wide group. Payloads carry ids and public facts only
(never key material)."""

from __future__ import annotations

from core.realtime import Audience, organization_group, publish, user_group


def _groups(*, organization_id, user_id) -> list[str]:
    groups = [organization_group(organization_id, Audience.BOOKS)]
    if user_id is not None:
        groups.insert(0, user_group(user_id))
    return groups


def _publish(event_type: str, payload: dict, *, organization_id, user_id) -> None:
    if organization_id is None:
        return
    for group in _groups(organization_id=organization_id, user_id=user_id):
        publish(group, event_type, payload)


def wallet_event(event_type: str, wallet) -> None:
    """wallet.created / wallet.updated / wallet.deleted / wallet.monitoring_enabled."""
    _publish(event_type, {"id": wallet.pk, "name": wallet.name, "address": wallet.address,
                          "wallet_type": wallet.wallet_type, "is_active": wallet.is_active,
                          "user_id": wallet.user_id, "organization_id": wallet.organization_id},
             organization_id=wallet.organization_id, user_id=wallet.user_id)


def transaction_event(event_type: str, transaction) -> None:
    """transaction.created / transaction.updated / transaction.deleted / transaction.confirmed."""
    _publish(event_type, {"id": transaction.pk, "wallet_id": transaction.wallet_id,
                          "transaction_type": transaction.transaction_type, "amount": transaction.amount,
                          "cryptocurrency_id": transaction.cryptocurrency_id,
                          "transaction_date": transaction.transaction_date, "status": transaction.status,
                          "source": transaction.source, "hash": transaction.hash,
                          "user_id": transaction.user_id, "organization_id": transaction.organization_id},
             organization_id=transaction.organization_id, user_id=transaction.user_id)


def transactions_imported_event(*, organization_id, user_id, wallet_id, created: int) -> None:
    """transactions.imported: one event for a whole file."""
    _publish("transactions.imported", {"created": created, "wallet_id": wallet_id, "user_id": user_id,
                                       "organization_id": organization_id},
             organization_id=organization_id, user_id=user_id)
