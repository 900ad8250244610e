"""Demo data: each app contributes a loader module, run in order by `manage.py load_demo`.

A loader module has `load(report)`: it must be idempotent (a second run creates nothing) and say in
the report what it created and what it skipped. Later issues extend the demo by adding a module here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

DEMO_LOADERS = (
    "accounts.demo",
    "wallets.demo",
    "ledger.demo",
)


@dataclass
class DemoReport:
    created: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def count(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n

    def skip(self, reason: str) -> None:
        self.skipped.append(reason)


def demo_load() -> DemoReport:
    report = DemoReport()
    for module_name in DEMO_LOADERS:
        importlib.import_module(module_name).load(report)
    return report


def _demo_user_specs() -> list[dict]:
    """The demo people of every loader module (a loader that makes people lists them in DEMO_USERS)."""
    specs: list[dict] = []
    for module_name in DEMO_LOADERS:
        specs += list(getattr(importlib.import_module(module_name), "DEMO_USERS", ()))
    return specs


def _organization_name(spec: dict) -> str:
    organization = spec.get("organization")
    if isinstance(organization, dict):
        organization = organization.get("name")
    if organization:
        return str(organization)
    # Not declared: where the loaded user actually is.
    user = get_user_model().objects.filter(username=spec["username"]).select_related("organization").first()
    return user.organization.name if user is not None and user.organization_id else NO_ORGANIZATION


NO_ORGANIZATION = "(no organization)"


def demo_logins() -> list[dict]:
    """Each demo login with its organization: username, password, role, organization (a name)."""
    return [{"username": spec["username"], "password": spec["password"], "role": str(spec["role"]),
             "organization": _organization_name(spec)} for spec in _demo_user_specs()]


def demo_logins_by_organization() -> list[tuple[str, list[dict]]]:
    """Who is where: the demo logins grouped by organization, in the order the demo lists them."""
    groups: dict[str, list[dict]] = {}
    for login in demo_logins():
        groups.setdefault(login["organization"], []).append(login)
    return list(groups.items())


def demo_login_lines(indent: str = "  ") -> list[str]:
    """The printed form: one heading per organization, then `username / password / role` lines."""
    lines = []
    for organization, logins in demo_logins_by_organization():
        lines.append(f"{indent}{organization}:")
        lines += [f"{indent}  {login['username']} / {login['password']} / {login['role']}" for login in logins]
    return lines
