"""Huey tasks of the ledger: keeping each organization's automatic journals in line with its
transactions. Wallets announce changed transactions (wallets.signals.transactions_changed); the
ledger subscribes in LedgerConfig.ready() (`journals_sync_on_transactions_changed`) and queues
`transaction_journals_sync_task`."""

from huey.contrib.djhuey import db_task

from accounts.models import User
from core.models import Organization
from core.scheduling import cron, periodic_job
from core.transactions import after_commit as run_after_commit
from ledger.transaction_journals import transaction_journals_sync, transaction_journals_sync_all


@db_task()
def transaction_journals_sync_task(user_id: str, organization_id: str | None = None):
    """After transactions changed (import, chain confirmation, edit): sync the journals of their
    organization (`organization_id`, else the organization of user `user_id`)."""
    if organization_id is None:
        user = User.objects.filter(pk=user_id).only("organization").first()
        organization_id = user.organization_id if user is not None else None
    organization = Organization.objects.filter(pk=organization_id).first() if organization_id else None
    return transaction_journals_sync(organization=organization).as_dict() if organization is not None else None


def journals_sync_one(organization_id):
    """The job's form for one organization (an organization's admin runs it from the system page)."""
    organization = Organization.objects.filter(pk=organization_id).first()
    return transaction_journals_sync(organization=organization).as_dict() if organization is not None else None


@periodic_job("journals_sync", cron(minute="*/15"), per_organization=journals_sync_one,
              description="Catch up the automatic journals of organizations whose transactions, prices or settings changed.")
def transaction_journals_sync_periodic():
    """Every 15 minutes: catch up the journals whose inputs moved since their last sync (whatever a
    missed or failed sync left); an organization with nothing new costs one small read
    (ledger.books_inputs)."""
    return transaction_journals_sync_all(only_if_changed=True)


@periodic_job("journals_sync_full", cron(minute="40", hour="3"),
              description="Rebuild every organization's automatic journals from its whole history (daily).")
def transaction_journals_sync_daily():
    """Every night: every organization in full, whatever the change marks say (a mark lost to a crash,
    today's rows valued at the latest price)."""
    return transaction_journals_sync_all()


def journals_sync_on_transactions_changed(sender, user_id, organization_id=None, after_commit=True, **kwargs):
    """wallets.signals.transactions_changed: sync the journals of the organization whose transactions
    changed, once they are committed."""
    if after_commit:
        run_after_commit(lambda: transaction_journals_sync_task(user_id, organization_id))
    else:
        transaction_journals_sync_task(user_id, organization_id)
