"""Employees: the people of the actor's organization, as its managers and admins see and manage them.

Scope: every lookup is inside the actor's organization (another organization's user id is a 404 like
a missing one). Who may act on whom is core.permissions.can_manage_member: a manager acts on the
organization's plain users, an admin on anyone but themselves. Lists: an admin sees the whole
organization, a manager their own team.

- `employee_invite` (POST /api/auth/employees/add/, /api/employees/, the team page) creates the account
  of a *new* person directly inside the organization, as a plain user reporting to the manager,
  unverified, with no usable password and a set-password email: the spec's employee creation. The
  person never had an organization, so nothing is taken from them; an address or username already
  registered is refused (409): invite that person instead.
- `employee_add_existing` (POST /api/auth/employees/add-existing/) never moves anyone: it emails an
  invitation the existing user accepts or declines (accounts.invitations).
- Removal (accounts.organizations.member_remove) moves the person to a personal organization.
Every change is audited and pushed to the organization's staff feeds after commit.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.audit import audit_record
from accounts.emails import email_send_after_commit, site_link
from accounts.invitations import invitation_create
from accounts.membership import organization_members
from accounts.models import Invitation, NotificationPriority, NotificationType, User
from accounts.notifications import notification_create
from accounts.services import people_event_publish, user_create
from accounts.sessions import sessions_end_all, token_hash
from core import permissions
from core.errors import Conflict, ErrorCode, NotFound
from core.models import Organization
from core.permissions import Role, require
from core.realtime import access_changed_publish
from core.transactions import in_transaction

INVITATION_TTL = dt.timedelta(days=3)  # of the set-password link of a newly created employee
MANAGERS_ONLY = "Only managers and admins manage employees."


def organization_members_for(actor: User) -> QuerySet[User]:
    """Every member of the actor's organization (managers and admins); nobody for anyone else."""
    if not permissions.can_manage_team(actor):
        return User.objects.none()
    return organization_members(actor.organization_id)


def employees_visible_to(actor: User) -> QuerySet[User]:
    """The list a manager works from: an admin sees the whole organization, a manager their team."""
    members = organization_members_for(actor)
    if permissions.is_org_admin(actor):
        return members
    return members.filter(manager=actor)


def employee_list_for(actor: User) -> QuerySet[User]:
    """The people a manager works with (employees_visible_to), for managers and admins only."""
    require(permissions.can_manage_team(actor), MANAGERS_ONLY)
    return employees_visible_to(actor).order_by("username", "id")


def manager_team_for(actor: User, manager_id) -> QuerySet[User]:
    """The team of one manager of the actor's organization: a manager asks for their own, an admin for
    anyone's (another manager's team, asked by a manager, is a 404 like a missing one)."""
    require(permissions.can_manage_team(actor), MANAGERS_ONLY)
    if str(actor.pk) != str(manager_id) and not permissions.is_org_admin(actor):
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    manager = employee_get_for(actor, manager_id)
    return organization_members_for(actor).filter(manager=manager).order_by("username", "id")


def employee_get_for(actor: User, employee_id) -> User:
    """A member of the actor's organization (refused for non-managers; another organization's user,
    like a missing one, is not found). What the actor may do to them is checked by each action."""
    require(permissions.can_manage_team(actor), MANAGERS_ONLY)
    employee = organization_members_for(actor).filter(pk=employee_id).first()
    if employee is None:
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    return employee


def _require_can_manage(actor: User, employee: User) -> None:
    if employee.pk == actor.pk:
        raise Conflict(ErrorCode.CANNOT_CHANGE_SELF, "You cannot change your own status.")
    require(permissions.can_manage_member(actor, employee),
            "A manager manages the plain users of the organization; an admin manages everyone.")


def _announce(event: str, employee: User) -> None:
    people_event_publish(event, employee)


def employee_invite(*, actor: User, username: str, email: str, first_name: str, last_name: str,
                    ip: str | None = None, **profile) -> User:
    """Create a new person's account in the actor's organization (no usable password) and email them
    a link to set one."""
    require(permissions.can_manage_team(actor), MANAGERS_ONLY)
    if User.objects.filter(Q(username=username) | Q(email=email.lower())).exists():
        raise Conflict(ErrorCode.ALREADY_REGISTERED,
                       "This username or email is already registered: invite that person instead "
                       "(POST /api/auth/invitations/).")
    token = secrets.token_urlsafe(32)
    organization = Organization.objects.get(pk=actor.organization_id)
    def employee_write():
        # A random password satisfies the validators; it is never revealed and replaced on acceptance.
        employee = user_create(username=username, email=email, password=secrets.token_urlsafe(24) + "aA1!",
                               first_name=first_name, last_name=last_name, role=Role.USER, manager=actor,
                               organization=organization, email_verified=False, **profile)
        employee.set_unusable_password()
        User.objects.filter(pk=employee.pk).update(
            password=employee.password, reset_password_token=token_hash(token),
            reset_password_expires=timezone.now() + INVITATION_TTL)
        _announce("employee.added", employee)
        return employee
    employee = in_transaction(employee_write)
    email_send_after_commit(
        to=employee.email,
        subject=f"{actor.get_full_name() or actor.username} invited you to {organization.name} on Crypto Books",
        body=(f"Hello {first_name},\n\nAn account in {organization.name} was made for you. "
              f"Set your password to activate it:\n"
              f"{site_link('/app/reset-password/?token=' + token)}\n\n"
              f"API clients: POST /api/auth/reset-password/ with the token and a new_password.\n"
              f"The link expires in {INVITATION_TTL.days} days."),
    )
    audit_record(action="employee_invited", actor=actor, target=employee, ip=ip)
    return employee


def employee_add_existing(*, actor: User, login: str, ip: str | None = None) -> Invitation:
    """Invite an existing user (by username or email) into the actor's organization as a plain user.
    Nobody moves: the user accepts or declines the emailed invitation."""
    require(permissions.can_manage_team(actor), MANAGERS_ONLY)
    login = (login or "").strip()
    employee = User.objects.filter(Q(username=login) | Q(email=login.lower()), is_active=True).first()
    if employee is None or employee.organization_id is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such user.")
    if employee.pk == actor.pk or str(employee.organization_id) == str(actor.organization_id):
        raise Conflict(ErrorCode.ALREADY_MEMBER, "This person is already a member of your organization.")
    return invitation_create(actor=actor, email=employee.email, role=Role.USER, ip=ip)


def employee_set_active(*, actor: User, employee: User, is_active: bool, ip: str | None = None) -> User:
    _require_can_manage(actor, employee)
    def status_write():
        User.objects.filter(pk=employee.pk).update(is_active=is_active)
        if not is_active:
            sessions_end_all(user=employee, reason="deactivated")
            access_changed_publish(employee.pk, reason="deactivated")
        employee.refresh_from_db()
        _announce("employee.status", employee)
    in_transaction(status_write)
    audit_record(action="employee_activated" if is_active else "employee_deactivated", actor=actor,
                 target=employee, ip=ip)
    return employee


def employee_deactivate(*, actor: User, employee: User, ip: str | None = None) -> User:
    """DELETE /api/employees/{id}/: the person is deactivated and leaves their manager's team; they stay
    a (deactivated) member of the organization, so its records about them are kept."""
    def deactivate():
        employee_set_active(actor=actor, employee=employee, is_active=False, ip=ip)
        User.objects.filter(pk=employee.pk).update(manager=None, is_verified_by_manager=False)
        employee.refresh_from_db()
        _announce("employee.removed", employee)
        return employee

    return in_transaction(deactivate)


def employee_verify(*, actor: User, employee: User, approve: bool = True, ip: str | None = None) -> User:
    """Approve (or reject: back to unverified) an employee. Unverified employees cannot create
    wallets or be paid."""
    _require_can_manage(actor, employee)
    def verify_write():
        User.objects.filter(pk=employee.pk).update(is_verified_by_manager=approve)
        employee.refresh_from_db()
        _announce("employee.verified" if approve else "employee.rejected", employee)
        notification_create(
            user=employee, type=NotificationType.SYSTEM,
            priority=NotificationPriority.MEDIUM if approve else NotificationPriority.HIGH,
            title="Your manager verified your account" if approve else "Your manager did not verify your account",
            message=("You can now create wallets and be paid." if approve
                     else "Contact your manager: your account stays unverified."),
        )
    in_transaction(verify_write)
    audit_record(action="employee_verified" if approve else "employee_rejected", actor=actor, target=employee,
                 ip=ip)
    return employee


EDITABLE_FIELDS = {"first_name", "last_name", "phone_number", "company", "department", "employee_id"}


def employee_update(*, actor: User, employee: User, ip: str | None = None, is_accountant: bool | None = None,
                    **changes) -> User:
    """Edit a member's details (can_manage_member); the accountant flag only by an admin of the
    organization (core.permissions.can_change_member_role)."""
    forbidden = sorted(set(changes) - EDITABLE_FIELDS)
    if forbidden:
        raise ValidationError({name: "This field cannot be changed here." for name in forbidden})
    if is_accountant is not None:
        require(permissions.can_change_member_role(actor, employee),
                "Only an admin of the organization makes someone an accountant.")
    if changes or is_accountant is None:
        _require_can_manage(actor, employee)
    for name, value in changes.items():
        setattr(employee, name, value)
    fields = list(changes)
    if is_accountant is not None and is_accountant != employee.is_accountant:
        employee.is_accountant = is_accountant
        fields.append("is_accountant")
    employee.full_clean(exclude=["password"])
    if fields:
        employee.save(update_fields=[*fields, "updated_at"])
    if "is_accountant" in fields:
        access_changed_publish(employee.pk, reason="accountant")
        people_event_publish("user.role_changed", employee, role=employee.role, previous_role=employee.role,
                             is_accountant=employee.is_accountant)
        audit_record(action="accountant_granted" if is_accountant else "accountant_revoked", actor=actor,
                     target=employee, ip=ip)
    if changes:
        audit_record(action="employee_updated", actor=actor, target=employee, ip=ip, fields=sorted(changes))
    return employee


def employee_can_hold_funds(user: User) -> bool:
    """Employees (users with a manager) need their manager's verification before wallets or pay."""
    return user.manager_id is None or user.is_verified_by_manager
