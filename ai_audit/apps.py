from django.apps import AppConfig


class AiAuditConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "ai_audit"
