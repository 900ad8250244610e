from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LedgerConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "ledger"

    def ready(self) -> None:
        # Imported here, not at the top: this module is loaded before the models are, and these
        # modules import models (the receivers live beside the work they do).
        from core.organizations import organization_created
        from ledger.services.default_chart import default_chart_after_migrate, default_chart_for_new_organization
        from ledger.tasks import journals_sync_on_transactions_changed
        from wallets.signals import transactions_changed

        post_migrate.connect(default_chart_after_migrate, sender=self, dispatch_uid="ledger_default_chart")
        organization_created.connect(default_chart_for_new_organization,
                                     dispatch_uid="ledger_default_chart_for_new_organization")
        transactions_changed.connect(journals_sync_on_transactions_changed,
                                     dispatch_uid="ledger_journals_on_transactions_changed")
