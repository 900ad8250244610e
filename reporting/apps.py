from django.apps import AppConfig


class ReportingConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "reporting"

    def ready(self) -> None:
        # Registers the dashboard's hooks (core's dashboard-stats feed reads its figures through one).
        import reporting.dashboard  # noqa: F401
