"""Demo people: an admin, a manager and two employees of that manager (fixed, printed passwords)."""

from accounts.models import Role, User
from accounts.services import user_create

DEMO_USERS = (
    {"username": "admin", "password": "Treasury!Key2026", "role": Role.ADMIN, "first_name": "Ada",
     "last_name": "Admin", "superuser": True},
    {"username": "manager", "password": "Quarter!Close2026", "role": Role.MANAGER, "first_name": "Maya",
     "last_name": "Manager"},
    {"username": "employee1", "password": "Payslip!June2026", "role": Role.USER, "first_name": "Eli",
     "last_name": "Employee", "manager": "manager", "employee_id": "EMP-001"},
    {"username": "employee2", "password": "Invoice!Paid2026", "role": Role.USER, "first_name": "Eva",
     "last_name": "Employee", "manager": "manager", "employee_id": "EMP-002"},
)


def load(report) -> None:
    existing = set(User.objects.filter(username__in=[u["username"] for u in DEMO_USERS])
                   .values_list("username", flat=True))
    for spec in DEMO_USERS:
        if spec["username"] in existing:
            continue
        manager = User.objects.get(username=spec["manager"]) if spec.get("manager") else None
        user_create(
            username=spec["username"],
            email=f"{spec['username']}@demo.cryptobooks.test",
            password=spec["password"],
            first_name=spec["first_name"],
            last_name=spec["last_name"],
            role=spec["role"],
            manager=manager,
            is_superuser=spec.get("superuser", False),
            is_verified_by_manager=manager is not None,
            email_verified=True,
            company="Demo Books Ltd",
            department="Finance" if spec["role"] != Role.USER else "Engineering",
            **({"employee_id": spec["employee_id"]} if spec.get("employee_id") else {}),
        )
        report.count("users")
