from django.apps import AppConfig


class WalletsConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "wallets"
