"""Huey tasks of the ledger: keeping the automatic journals in line with the transactions."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_task()
def transaction_journals_sync_task(user_id: str):
    """After a user's transactions changed (import, chain confirmation, edit): sync their journals."""
    from accounts.models import User
    from ledger.transaction_journals import transaction_journals_sync

    user = User.objects.filter(pk=user_id).first()
    return transaction_journals_sync(user=user).as_dict() if user is not None else None


@db_periodic_task(crontab(minute="*/15"))
@lock_task("transaction-journals-sync")
def transaction_journals_sync_periodic():
    """Every 15 minutes: catch up every user's journals (whatever a missed or failed sync left)."""
    from ledger.transaction_journals import transaction_journals_sync_all

    return transaction_journals_sync_all()


def transaction_journals_sync_later(user) -> None:
    """Queue a sync of `user`'s journals once the current transaction commits."""
    from django_mongodb_backend.transaction import on_commit

    on_commit(lambda: transaction_journals_sync_task(str(user.pk)))
