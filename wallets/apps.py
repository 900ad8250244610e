from django.apps import AppConfig


class WalletsConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "wallets"

    def ready(self):
        # why inside: both import models, which are loaded only once ready() runs
        from core.organizations import reporting_fiat_lock_register
        from wallets.selectors import reporting_fiat_lock_reason

        reporting_fiat_lock_register(reporting_fiat_lock_reason)
