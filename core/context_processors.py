"""Template context: what the logged-in user may do, from core.permissions, so templates (the
back-office layout's navigation) never test `user.is_staff` or a role themselves.

Wire it in settings.TEMPLATES[...]["OPTIONS"]["context_processors"] as
"core.context_processors.rules"; templates then read e.g. `{% if rules.can_view_books %}`.
"""

from core import permissions

TEMPLATE_RULES = (
    "can_open_admin",
    "can_use_backoffice",
    "can_view_task_runs",
    "can_run_platform_tasks",
    "can_view_books",
    "can_manage_team",
    "can_manage_organization",
    "can_view_automation",
)


class _Rules:
    """Evaluated on first use per template, so pages that never ask pay nothing."""

    def __init__(self, user):
        self._user = user
        self._cache: dict[str, bool] = {}

    def __getattr__(self, name):
        if name.startswith("_") or name not in TEMPLATE_RULES:
            raise AttributeError(name)
        if name not in self._cache:
            self._cache[name] = getattr(permissions, name)(self._user)
        return self._cache[name]


def rules(request):
    return {"rules": _Rules(getattr(request, "user", None))}
