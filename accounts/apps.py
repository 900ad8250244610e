from django.apps import AppConfig
from django.core.checks import register
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "accounts"

    def ready(self):
        # Here, not at the top: these import models, which cannot load while the app registry is built.
        from accounts import selectors
        from accounts.checks import key_settings_check
        from accounts.audit import audit_record_admin_change
        from accounts.roles import role_groups_sync_after_migrate
        from core.admin_base import admin_change_recorded
        from core.jsonapi.auth import session_backend_register

        register(key_settings_check, "security")  # malformed keys fail `manage.py check` (issue 19)
        post_migrate.connect(role_groups_sync_after_migrate, dispatch_uid="accounts.role_groups_sync")
        # The login glue core's API and WebSocket authentication use (core imports nothing above it).
        session_backend_register(selectors)
        admin_change_recorded.connect(audit_record_admin_change, dispatch_uid="accounts.audit_admin_change")
