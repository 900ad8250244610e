"""The accounts API, one module per sub-domain, assembled into the three routers config/api.py mounts:
`router` (/api/auth/: auth, registration, profile, organization, invitations, and employees under
/api/auth/employees/), `employees_router` (/api/employees/) and `notifications_router`
(/api/notifications/)."""

from ninja import Router

from accounts.api import auth, organization, profile, registration, team

router = Router(tags=["auth"])
for part in (registration.router, auth.router, profile.router, organization.router):
    router.add_router("", part)
router.add_router("/employees/", team.auth_employees_router)

employees_router = team.employees_router
notifications_router = profile.notifications_router

__all__ = ["router", "employees_router", "notifications_router"]
