from django.apps import AppConfig


class AiAuditConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "ai_audit"

    def ready(self) -> None:
        # Imported here: this module is loaded before the models are. New transactions are classified
        # and overrides teach the classifier (wallets announces both; it never imports ai_audit).
        from ai_audit.classification.tasks import signals_connect

        signals_connect()
