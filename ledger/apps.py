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


class LedgerConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "ledger"

    def ready(self) -> None:
        from core.organizations import organization_created

        post_migrate.connect(default_chart_after_migrate, sender=self, dispatch_uid="ledger_default_chart")
        organization_created.connect(default_chart_for_new_organization,
                                     dispatch_uid="ledger_default_chart_for_new_organization")
