from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "invoicing"
