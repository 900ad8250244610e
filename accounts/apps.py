from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "accounts"

    def ready(self):
        from accounts.roles import role_groups_sync_after_migrate

        post_migrate.connect(role_groups_sync_after_migrate, dispatch_uid="accounts.role_groups_sync")
