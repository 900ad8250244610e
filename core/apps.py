from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
    name = "core"

    def ready(self):
        # py_ecc (imported by eth-account) raises Python's recursion limit to 100,000 when it loads;
        # with that limit a deeply nested input overflows the C stack and kills the process instead
        # of raising RecursionError. Load it now and put the limit back, in every process (web,
        # task worker, management commands).
        import eth_account  # noqa: F401  (for its import-time side effect, undone below)

        from core.jsonapi.middleware import recursion_limit_restore  # ready(): the app registry is loaded

        recursion_limit_restore()
