from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class LedgerConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "ledger"

    def ready(self) -> None:
        # Imported here, not at the top: this module is loaded before the models are, and these
        # modules import models (the receivers live beside the work they do).
        from core.models import Organization
        from core.organizations import organization_created
        from ledger import books_inputs
        from ledger.services.default_chart import default_chart_after_migrate, default_chart_for_new_organization
        from ledger.tasks import journals_sync_on_transactions_changed
        from wallets.models import PriceQuote
        from wallets.signals import transactions_changed

        post_migrate.connect(default_chart_after_migrate, sender=self, dispatch_uid="ledger_default_chart")
        organization_created.connect(default_chart_for_new_organization,
                                     dispatch_uid="ledger_default_chart_for_new_organization")
        # The marks that let a journal sync with nothing to do return at once (ledger.books_inputs);
        # connected first, so a mark moves before the sync it triggers reads it.
        transactions_changed.connect(books_inputs.on_transactions_changed, dispatch_uid="ledger_mark_transactions")
        post_save.connect(books_inputs.on_price_quote_changed, sender=PriceQuote, dispatch_uid="ledger_mark_prices")
        post_delete.connect(books_inputs.on_price_quote_changed, sender=PriceQuote,
                            dispatch_uid="ledger_mark_prices_deleted")
        post_save.connect(books_inputs.on_organization_saved, sender=Organization,
                          dispatch_uid="ledger_mark_books_settings")
        transactions_changed.connect(journals_sync_on_transactions_changed,
                                     dispatch_uid="ledger_journals_on_transactions_changed")
