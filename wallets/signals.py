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
