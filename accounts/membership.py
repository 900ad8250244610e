"""Who is in an organization, and the rule that an organization with members always keeps an admin
(read by role changes, invitations, leaving and removal)."""

from __future__ import annotations

from accounts.models import User
from core import permissions
from core.errors import Conflict, ErrorCode


def organization_members(organization_id):
    return User.objects.filter(organization_id=organization_id)


def organization_member_count(organization_id) -> int:
    return organization_members(organization_id).filter(is_active=True).count()


def other_members_exist(user: User) -> bool:
    return organization_members(user.organization_id).filter(is_active=True).exclude(pk=user.pk).exists()


def _other_admins_exist(user: User) -> bool:
    return (organization_members(user.organization_id)
            .filter(is_active=True, role__in=permissions.organization_admin_roles())
            .exclude(pk=user.pk).exists())


def last_admin_check(user: User) -> None:
    """409 when `user` is the last admin of an organization that still has other members: it would be
    left without anyone able to manage it."""
    if permissions.holds_admin_role(user) and other_members_exist(user) and not _other_admins_exist(user):
        raise Conflict(ErrorCode.LAST_ADMIN,
                       "You are the last admin of your organization and it has other members: make another "
                       "member an admin first.")
