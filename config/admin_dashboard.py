"""The admin's index as the dashboard (issue 11): unfold's DASHBOARD_CALLBACK adds the figures of
/app/dashboard/ for the admin's organization, read through the same selector
(reporting.dashboard.selectors.dashboard_for: the same figures, the same per-user cache), and
templates/admin/index.html shows them as cards above the list of apps. A figure that cannot be
computed shows its error instead of taking the admin's index down."""

from core import permissions
from core.errors import DomainError
from reporting.dashboard.selectors import dashboard_for


def dashboard_callback(request, context: dict) -> dict:
    user = request.user
    if not permissions.can_use_backoffice(user) or user.organization_id is None:
        return context  # a platform superuser outside any organization: the list of apps only
    try:
        figures = dashboard_for(user)
    except DomainError as exc:
        context.update(dashboard_error=exc.message)
        return context
    context.update(dashboard=figures, dashboard_fiat=figures["fiat"],
                   dashboard_organization=user.organization.name)
    return context
