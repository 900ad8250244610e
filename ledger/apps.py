from django.apps import AppConfig
from django.db.models.signals import post_migrate


def default_chart_after_migrate(sender, app_config, using="default", plan=None, **kwargs) -> None:
    """post_migrate handler: every organization has the default chart of accounts after every
    migrate (idempotent; the charts of organizations made before the ledger knew them)."""
    if plan is not None and any(backwards for _, backwards in plan):
        return  # migrating backwards: the tables may be gone
    from ledger.services import chart_of_accounts_ensure_all

    chart_of_accounts_ensure_all(using=using)


def default_chart_for_new_organization(sender, organization, using="default", **kwargs) -> None:
    """core.organizations.organization_created: a new organization starts with the default chart,
    written inside its creator's transaction (it commits or rolls back with the organization)."""
    from ledger.services import chart_of_accounts_ensure_default

    chart_of_accounts_ensure_default(organization_id=organization.pk, currency=organization.reporting_fiat,
                                     using=using)


def journals_sync_on_transactions_changed(sender, user_id, organization_id=None, after_commit=True, **kwargs):
    """wallets.signals.transactions_changed: sync the journals of the organization whose transactions
    changed, once they are committed."""
    from django_mongodb_backend.transaction import on_commit

    from ledger.tasks import transaction_journals_sync_task

    if after_commit:
        on_commit(lambda: transaction_journals_sync_task(user_id, organization_id))
    else:
        transaction_journals_sync_task(user_id, organization_id)


class LedgerConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "ledger"

    def ready(self) -> None:
        from core.organizations import organization_created
        from wallets.signals import transactions_changed

        post_migrate.connect(default_chart_after_migrate, sender=self, dispatch_uid="ledger_default_chart")
        organization_created.connect(default_chart_for_new_organization,
                                     dispatch_uid="ledger_default_chart_for_new_organization")
        transactions_changed.connect(journals_sync_on_transactions_changed,
                                     dispatch_uid="ledger_journals_on_transactions_changed")
