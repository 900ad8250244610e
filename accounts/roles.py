"""Roles as groups: each role (USER, MANAGER, ADMIN) is a group holding that role's permissions.

Group permissions are synced after every migrate (idempotent), so new models' permissions reach the
right roles. Object-level scoping (a manager sees only their team) is enforced in selectors.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import F

from accounts.models import Role

# Apps whose every model permission the ADMIN role holds.
ADMIN_APPS = ("accounts", "auth", "core", "wallets", "ledger", "payroll", "invoicing", "reporting", "ai_audit")

ROLE_PERMISSIONS = {
    Role.USER: (),
    Role.MANAGER: (
        "accounts.view_user",
        "accounts.change_user",
        "core.view_taskrun",
        "wallets.view_wallet",
        "wallets.view_transaction",
        "wallets.view_cryptocurrency",
    ),
}

STAFF_ROLES = (Role.MANAGER, Role.ADMIN)


def role_group_name(role: str) -> str:
    return role


def _permissions(codes) -> list[Permission]:
    wanted = {tuple(code.split(".", 1)) for code in codes}
    # annotate(F(...)) rather than select_related/values across the relation (stack.md, defect 1).
    candidates = Permission.objects.filter(codename__in=[c for _, c in wanted]).annotate(
        perm_app_label=F("content_type__app_label")
    )
    return [p for p in candidates if (p.perm_app_label, p.codename) in wanted]


def role_groups_sync(**kwargs) -> None:
    """Create the three role groups and set their permissions (post_migrate handler)."""
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role_group_name(role))
        if role == Role.ADMIN:
            permissions = list(Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))
        else:
            permissions = _permissions(ROLE_PERMISSIONS[role])
        group.permissions.set(permissions)
