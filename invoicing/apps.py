from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "invoicing"

    def ready(self) -> None:
        # Imported here, not at the top: this module is loaded before the models are.
        from invoicing.services.payments import on_transactions_changed
        from invoicing.dashboard import invoices_awaiting
        from invoicing.selectors import invoice_payment_purposes
        from reporting.dashboard.hooks import awaiting_provider_register
        from wallets.signals import transaction_purpose_resolver_register, transactions_changed

        # The wallet monitor announces recorded transfers: the payment pages hear "payment seen".
        transactions_changed.connect(on_transactions_changed, dispatch_uid="invoicing_payments_seen")
        # The dashboard's items awaiting someone (reporting never imports invoicing).
        awaiting_provider_register("invoicing", invoices_awaiting)
        # The classifier's certain rule: a transfer that paid an invoice is an invoice payment.
        transaction_purpose_resolver_register(invoice_payment_purposes)
