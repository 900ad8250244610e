from django.apps import AppConfig
from django.db.models.signals import post_migrate


def default_chart_after_migrate(sender, app_config, using="default", plan=None, **kwargs) -> None:
    """post_migrate handler: the default chart of accounts exists after every migrate (idempotent)."""
    if plan is not None and any(backwards for _, backwards in plan):
        return  # migrating backwards: the tables may be gone
    from ledger.services import chart_of_accounts_ensure_default

    chart_of_accounts_ensure_default(using=using)


class LedgerConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "ledger"

    def ready(self) -> None:
        post_migrate.connect(default_chart_after_migrate, sender=self, dispatch_uid="ledger_default_chart")
