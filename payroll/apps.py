from django.apps import AppConfig


class PayrollConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "payroll"

    def ready(self) -> None:
        # Imported here, not at the top: this module is loaded before the models are.
        from payroll.services.crypto_payouts import on_transactions_changed
        from payroll.dashboard import payroll_awaiting
        from reporting.dashboard.hooks import awaiting_provider_register
        from wallets.signals import transactions_changed

        # wallets announces a settled send this way: payroll settles its crypto payslips then.
        transactions_changed.connect(on_transactions_changed, dispatch_uid="payroll_payouts_on_transactions_changed")
        # The dashboard's items awaiting someone (reporting never imports payroll).
        awaiting_provider_register("payroll", payroll_awaiting)
