from django.apps import AppConfig


def reporting_fiat_lock_check(organization) -> str | None:
    """The organization's reporting fiat is fixed once it holds a transaction: every stored value
    (prices, costs, proceeds) is in that currency."""
    from wallets.models import Transaction

    if Transaction.objects.for_organization(organization.pk).exists():
        return "The organization already has transactions valued in its reporting currency."
    return None


class WalletsConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "wallets"

    def ready(self):
        from core.organizations import reporting_fiat_lock_register

        reporting_fiat_lock_register(reporting_fiat_lock_check)
