"""Roles as groups: each role (USER, MANAGER, ADMIN) is a group holding that role's permissions.

Group permissions are synced after every migrate (idempotent), so new models' permissions reach the
right roles. Object-level scoping (a manager sees only their team) is enforced in selectors and the
admin's querysets, not here.
"""

from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS
from django.db.models import F

from core.permissions import Role

# Apps whose every model permission the ADMIN role holds.
ADMIN_APPS = ("accounts", "auth", "core", "wallets", "ledger", "payroll", "invoicing", "reporting", "ai_audit")

# USER holds no model permission: users are not staff and reach only their own data through the
# app's own pages and API, which scope every query to the owner.
ROLE_PERMISSIONS = {
    Role.USER: (),
    Role.MANAGER: (
        "accounts.view_user",
        "accounts.change_user",
        "accounts.view_invitation",
        "accounts.view_notification",
        "accounts.view_usersession",
        "accounts.view_auditlogentry",
        "core.view_taskrun",
        "wallets.view_wallet",
        "wallets.view_transaction",
        "wallets.view_cryptocurrency",
        "wallets.view_pricealert",
        "wallets.view_pricequote",
        "ledger.view_financialaccount",
        "ledger.view_journalentry",
        "reporting.view_financialstatement",
    ),
}



def role_group_name(role: str) -> str:
    return role


def _permissions(codes, using: str) -> list[Permission]:
    wanted = {tuple(code.split(".", 1)) for code in codes}
    # annotate(F(...)) rather than select_related/values across the relation (stack.md, defect 1).
    candidates = Permission.objects.using(using).filter(codename__in=[c for _, c in wanted]).annotate(
        perm_app_label=F("content_type__app_label")
    )
    return [p for p in candidates if (p.perm_app_label, p.codename) in wanted]


def role_groups_sync(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the three role groups and give each exactly its role's permissions (idempotent: a
    second run writes nothing; a permission added or removed by hand is put back in line)."""
    for role in Role:
        group, _ = Group.objects.using(using).get_or_create(name=role_group_name(role))
        if role in ROLE_PERMISSIONS:
            permissions = _permissions(ROLE_PERMISSIONS[role], using)
        else:  # the ADMIN role: every permission of our apps
            permissions = list(Permission.objects.using(using).filter(content_type__app_label__in=ADMIN_APPS))
        group.permissions.set(permissions)


def _last_app_with_models() -> str:
    return [config.label for config in global_apps.get_app_configs() if config.models_module is not None][-1]


def role_groups_sync_after_migrate(sender, app_config, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate handler. The signal is sent once per app, in INSTALLED_APPS order, and each app's
    permissions are created by its own sending: syncing after the last app sees them all, once."""
    if app_config.label == _last_app_with_models():
        role_groups_sync(using=using)
