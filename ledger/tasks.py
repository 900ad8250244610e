"""Huey tasks of the ledger: keeping each organization's automatic journals in line with its
transactions. Wallets announce changed transactions (wallets.signals.transactions_changed); the
ledger subscribes in LedgerConfig.ready() and queues `transaction_journals_sync_task`."""

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
