from django.apps import AppConfig


class ReportingConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "reporting"
