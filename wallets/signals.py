"""What wallets announce to the apps above it, which subscribe in their AppConfig.ready() (wallets
never imports them): the ledger books the automatic journals of changed transactions."""

from __future__ import annotations

import django.dispatch

# Transactions of an organization changed (imported, recorded, confirmed on chain, edited, deleted).
# Keyword arguments: user_id (whose rows), organization_id (None: that user's organization),
# after_commit (True: act once the current transaction commits; False: the rows are already there).
transactions_changed = django.dispatch.Signal()


def transactions_changed_announce(owner=None, *, user_id=None, organization_id=None, after_commit: bool = True) -> None:
    """`owner`: a transaction (its user and organization) or a user; or give `user_id` directly."""
    if owner is not None:
        user_id = getattr(owner, "user_id", None) or owner.pk
        organization_id = getattr(owner, "organization_id", None) if organization_id is None else organization_id
        if getattr(owner, "_meta", None) is not None and owner._meta.model_name == "user":
            organization_id = None  # a user's own organization, read when the sync runs
    transactions_changed.send(sender=transactions_changed, user_id=str(user_id),
                              organization_id=str(organization_id) if organization_id is not None else None,
                              after_commit=after_commit)


# A transaction was labelled (a person's override, an accepted suggestion, or a suggestion applied
# automatically): the classifier (ai_audit) records who and when and learns from it. Keyword
# arguments: transaction, actor (None: automatic), label, category, how ("manual", "accepted",
# "applied"). Sent after the row is saved.
transaction_labelled = django.dispatch.Signal()

# Transactions are written by the monitor, imports and the API without naming each one, so the
# classifier listens to `transactions_changed` and classifies what it has not seen yet.


def transaction_labelled_announce(*, transaction, actor, label: str, category: str, how: str) -> None:
    transaction_labelled.send(sender=transaction_labelled, transaction=transaction, actor=actor, label=label,
                              category=category, how=how)


# What the apps above wallets made or matched themselves (an invoice paid by a transfer, a payroll
# payout): each registers, in its AppConfig.ready(), a function
#     resolver(organization_id, transaction_ids: list[str]) -> {transaction_id: purpose}
# with purpose "invoice" or "payroll"; the classifier asks `transaction_purposes` (a certain rule).
TRANSACTION_PURPOSES = ("invoice", "payroll")
_purpose_resolvers: list = []


def transaction_purpose_resolver_register(resolver) -> None:
    if resolver not in _purpose_resolvers:
        _purpose_resolvers.append(resolver)


def transaction_purpose_resolver_unregister(resolver) -> None:
    if resolver in _purpose_resolvers:
        _purpose_resolvers.remove(resolver)


def transaction_purposes(organization_id, transaction_ids) -> dict[str, str]:
    found: dict[str, str] = {}
    ids = [str(i) for i in transaction_ids]
    for resolver in list(_purpose_resolvers):
        for transaction_id, purpose in (resolver(organization_id, ids) or {}).items():
            if purpose in TRANSACTION_PURPOSES and str(transaction_id) in ids:
                found.setdefault(str(transaction_id), purpose)
    return found
