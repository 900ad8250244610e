from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "accounts"

    def ready(self):
        from accounts.roles import role_groups_sync

        # After the last app migrates, so every app's permissions exist.
        post_migrate.connect(role_groups_sync, dispatch_uid="accounts.role_groups_sync")
