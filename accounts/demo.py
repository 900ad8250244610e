"""Demo people in two organizations, so the separation is visible on day one:
- "Demo Books Ltd", the company: an admin (also the platform superuser), a manager, two employees of
  that manager and an accountant (a plain user who works the books);
- "Orbit Analytics", an outside client keeping its own books: one member, its admin.
Fixed, printed passwords. Idempotent: people by username, organizations by name."""

import secrets

from accounts.models import User
from accounts.services import user_create
from core import permissions
from core.models import Organization
from core.organizations import organization_create
from core.permissions import Role

COMPANY = "Demo Books Ltd"
CLIENT = "Orbit Analytics"

DEMO_USERS = (
    {"username": "admin", "password": "Treasury!Key2026", "role": Role.ADMIN, "first_name": "Ada",
     "last_name": "Admin", "superuser": True, "organization": COMPANY},
    {"username": "manager", "password": "Quarter!Close2026", "role": Role.MANAGER, "first_name": "Maya",
     "last_name": "Manager", "organization": COMPANY},
    {"username": "employee1", "password": "Payslip!June2026", "role": Role.USER, "first_name": "Eli",
     "last_name": "Employee", "manager": "manager", "employee_id": "EMP-001", "organization": COMPANY},
    {"username": "employee2", "password": "Invoice!Paid2026", "role": Role.USER, "first_name": "Eva",
     "last_name": "Employee", "manager": "manager", "employee_id": "EMP-002", "organization": COMPANY},
    {"username": "accountant", "password": "Ledger!Books2026", "role": Role.USER, "first_name": "Alan",
     "last_name": "Accountant", "accountant": True, "organization": COMPANY},
    {"username": "client", "password": "Client!Books2026", "role": Role.ADMIN, "first_name": "Cleo",
     "last_name": "Client", "organization": CLIENT},
)


def demo_organization(name: str) -> Organization | None:
    """The demo organization of that name (the oldest, if an earlier install made one too)."""
    return Organization.objects.filter(name=name).order_by("created_at", "id").first()


def _organization(name: str, report) -> Organization:
    organization = demo_organization(name)
    if organization is None:
        organization = organization_create(name=name)
        report.count("organizations")
    return organization


def _placeholder_password(spec) -> str:
    """A random password (the real one is set afterwards) that passes the validators: a random string
    can contain a user's name by chance (accounts.validators refuses that), so draw again."""
    words = [spec["username"], spec["first_name"], spec["last_name"]]
    while True:
        password = secrets.token_urlsafe(24) + "aA1!"
        if not any(len(word) >= 3 and word.lower() in password.lower() for word in words):
            return password


def load(report) -> None:
    existing = set(User.objects.filter(username__in=[u["username"] for u in DEMO_USERS])
                   .values_list("username", flat=True))
    organizations: dict[str, Organization] = {}
    for spec in DEMO_USERS:
        if spec["username"] in existing:
            continue
        name = spec["organization"]
        if name not in organizations:
            organizations[name] = _organization(name, report)
        manager = User.objects.get(username=spec["manager"]) if spec.get("manager") else None
        user = user_create(
            username=spec["username"],
            email=f"{spec['username']}@demo.cryptobooks.test",
            password=_placeholder_password(spec),
            first_name=spec["first_name"],
            last_name=spec["last_name"],
            role=spec["role"],
            manager=manager,
            organization=organizations[name],
            is_superuser=spec.get("superuser", False),
            is_accountant=spec.get("accountant", False),
            is_verified_by_manager=manager is not None,
            email_verified=True,
            company=name,
            department=("Finance" if permissions.role_is_staff(spec["role"]) or spec.get("accountant")
                        else "Engineering"),
            **({"employee_id": spec["employee_id"]} if spec.get("employee_id") else {}),
        )
        # The demo's fixed, printed password, set as is: the personal-data rule of the password policy
        # would refuse "Client!Books2026" for the user "client", and these are public anyway.
        user.set_password(spec["password"])
        user.save(update_fields=["password"])
        report.count("users")
