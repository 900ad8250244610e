"""Writes for users and roles: `<entity>_<action>(*, ...)`, validated and transactional."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.audit import audit_record
from accounts.membership import last_admin_check
from accounts.models import User
from accounts.roles import role_group_name
from accounts.validators import email_validate, password_validate
from core import permissions
from core.errors import DomainError
from core.models import Organization
from core.organizations import organization_create, organization_name_for
from core.permissions import Role
from core.realtime import StaffFeed, access_changed_publish, publish, staff_feed_group, user_group
from core.transactions import in_transaction


def _apply_role(user: User, role: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": f"unknown role {role!r}"})
    user.role = role
    user.is_staff = permissions.role_is_staff(role) or user.is_superuser


def _sync_role_group(user: User) -> None:
    """Exactly one role group, the role's; other (non-role) groups are left alone. No write when
    the membership is already right."""
    wanted = role_group_name(user.role)
    role_groups = list(Group.objects.filter(name__in=[role_group_name(r) for r in Role.values]))
    held = set(user.groups.filter(pk__in=[g.pk for g in role_groups]).values_list("name", flat=True))
    stale = [group for group in role_groups if group.name in held and group.name != wanted]
    if stale:
        user.groups.remove(*stale)
    if wanted not in held:
        user.groups.add(Group.objects.get_or_create(name=wanted)[0])


def user_create(
    *,
    username: str,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    role: str = Role.USER,
    manager: User | None = None,
    is_superuser: bool = False,
    organization: Organization | None = None,
    **profile,
) -> User:
    """Create a user in the group of their role; the password must pass the validators.

    Without an organization the user gets one of their own (named from `company`, else after them)
    and is its ADMIN whatever `role` says: a one-person organization is how an individual or an
    outside API client keeps their own books."""
    email_validate(email)
    user = User(
        username=username, email=email.lower(), first_name=first_name, last_name=last_name,
        manager=manager, is_superuser=is_superuser, **profile,
    )
    _apply_role(user, role if organization is not None else Role.ADMIN)
    password_validate(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password", "organization"])
    def create(organization=organization):  # each attempt starts again from the caller's organization
        if organization is None:
            organization = organization_create(
                name=organization_name_for(company=user.company, first_name=first_name, last_name=last_name,
                                           username=username),
                is_personal=not user.company.strip())
        user.organization = organization
        user.pk = None  # an aborted attempt's id is not in the database
        user.save()
        _sync_role_group(user)
        return user

    return in_transaction(create)


def people_event_publish(event: str, user: User, *, platform: bool = False, **extra) -> None:
    """A people event (registration, verification, role change, employee added or removed) on the
    staff feeds of the user's organization, /ws/admin/user-management/ and manager-verification/, after
    commit; `platform`: also on the platform's user-management feed (superusers: a new organization).
    Who and what changed, never an email address, token or secret."""
    if user.organization_id is None:
        return
    payload = {"id": str(user.pk), "username": user.username, "manager": str(user.manager_id or ""),
               "is_active": user.is_active, "is_verified_by_manager": user.is_verified_by_manager,
               "organization": str(user.organization_id), **extra}
    for feed in (StaffFeed.USER_MANAGEMENT, StaffFeed.MANAGER_VERIFICATION):
        publish(staff_feed_group(user.organization_id, feed), event, payload)
    if platform:
        publish(staff_feed_group(None, StaffFeed.USER_MANAGEMENT), event, payload)


def user_set_role(*, user: User, role: str, actor: User | None, previous_role: str | None = None,
                  ip: str | None = None) -> User:
    """Set a user's role: the field, the role group and the staff flag move together. Only an admin of
    the user's organization (or a platform superuser in the admin, or the system: actor None) changes
    a role (core.permissions.can_change_member_role); an actual change is audited. Calling it with the
    current role re-aligns group and staff flag (the admin does so after every save)."""
    previous = previous_role or user.role
    if role != previous and actor is not None:
        permissions.require(permissions.can_change_member_role(actor, user),
                            "Only an admin of their organization changes a member's role.")
    if role != previous and not role_change_keeps_an_admin(user, previous, role):
        raise ValidationError({"role": "This is the last admin of an organization with other members: make "
                                       "another member an admin first."})
    _apply_role(user, role)
    def role_write():
        user.save(update_fields=["role", "is_staff", "updated_at"])
        _sync_role_group(user)
        if role != previous:
            access_changed_publish(user.pk, reason="role")
            people_event_publish("user.role_changed", user, role=role, previous_role=previous)
    in_transaction(role_write)
    if role != previous:
        audit_record(action="role_changed", actor=actor, target=user, ip=ip, previous=previous, role=role)
    return user


def role_change_keeps_an_admin(user: User, previous: str, role: str) -> bool:
    """Whether the user's organization still has an admin if `user` goes from `previous` to `role`
    (an organization with other members must keep one)."""
    if user.organization_id is None or not permissions.holds_admin_role(User(role=previous)) \
            or permissions.holds_admin_role(User(role=role)):
        return True
    try:
        last_admin_check(User(pk=user.pk, organization_id=user.organization_id, role=previous))
    except DomainError:
        return False
    return True


MEMBERSHIP_CHANGED = "membership.changed"


def user_move_to_organization(*, user: User, organization: Organization, role: str,
                              manager: User | None = None) -> User:
    """Make `user` a member of `organization` with `role` (role group and staff flag follow), the
    given manager (unverified: the manager-verification flow runs again) and no accountant flag.
    Nothing else of theirs moves: their wallets and books stay with the organization they were made
    in. Callers check who may do it (invitations, leaving, removal) and run it in their transaction."""
    user.organization = organization
    user.manager = manager
    user.is_verified_by_manager = False
    user.is_accountant = False
    _apply_role(user, role)
    previous_organization_id = User.objects.filter(pk=user.pk).values_list("organization_id", flat=True).first()
    user.save(update_fields=["organization", "manager", "is_verified_by_manager", "is_accountant", "role",
                             "is_staff", "updated_at"])
    _sync_role_group(user)
    # Open sockets joined the groups of the organization they left: they must drop them (the consumer
    # closes or re-joins on this event).
    publish(user_group(user.pk), MEMBERSHIP_CHANGED, {
        "organization": str(organization.pk), "previous_organization": str(previous_organization_id or ""),
        "role": user.role})
    access_changed_publish(user.pk, reason="membership")
    return user


SYSTEM_USERNAME = "system"


def system_user_get() -> User:
    """The account that automatic work (journals from transactions) acts as: an inactive user with no
    usable password, so nobody can log in as it, holding the ADMIN role for the ledger's checks."""
    user = User.objects.filter(username=SYSTEM_USERNAME).first()
    if user is not None:
        return user
    user = User(username=SYSTEM_USERNAME, email="system@books.invalid", first_name="Automatic", last_name="Books",
                role=Role.ADMIN, is_active=False, is_staff=False)
    user.set_unusable_password()
    try:
        user.save()
    except IntegrityError:  # made by a concurrent caller
        return User.objects.get(username=SYSTEM_USERNAME)
    return user
