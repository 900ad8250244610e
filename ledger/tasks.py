"""Huey tasks of the ledger: keeping each organization's automatic journals in line with its
transactions. The entry points wallets calls keep their arguments (a user id, a user or a
transaction); the organization comes from them (a transaction's `organization_id`, else the user's)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_task()
def transaction_journals_sync_task(user_id: str, organization_id: str | None = None):
    """After transactions changed (import, chain confirmation, edit): sync the journals of their
    organization (`organization_id`, else the organization of user `user_id`)."""
    from accounts.models import User
    from core.models import Organization
    from ledger.transaction_journals import transaction_journals_sync

    if organization_id is None:
        user = User.objects.filter(pk=user_id).only("organization").first()
        organization_id = user.organization_id if user is not None else None
    organization = Organization.objects.filter(pk=organization_id).first() if organization_id else None
    return transaction_journals_sync(organization=organization).as_dict() if organization is not None else None


@db_periodic_task(crontab(minute="*/15"))
@lock_task("transaction-journals-sync")
def transaction_journals_sync_periodic():
    """Every 15 minutes: catch up every organization's journals (whatever a missed or failed sync left)."""
    from ledger.transaction_journals import transaction_journals_sync_all

    return transaction_journals_sync_all()


def transaction_journals_sync_later(owner) -> None:
    """Queue a sync of the journals of `owner`'s organization once the current transaction commits.
    `owner`: a transaction (its organization) or a user (theirs)."""
    from django_mongodb_backend.transaction import on_commit

    user_id = getattr(owner, "user_id", None) or owner.pk
    organization_id = getattr(owner, "organization_id", None)
    organization_id = str(organization_id) if organization_id is not None else None
    on_commit(lambda: transaction_journals_sync_task(str(user_id), organization_id))
