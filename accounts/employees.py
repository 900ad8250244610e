"""Teams: managers add, verify, (de)activate and remove their employees; admins manage everyone.
Every change is audit-logged and pushed to the staff feeds after commit."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db.models import Q, QuerySet
from django.utils import timezone
from django_mongodb_backend.transaction import atomic

from accounts.audit import audit_record
from accounts.emails import email_send_after_commit, site_link
from accounts.models import NotificationPriority, NotificationType, Role, User
from accounts.notifications import notification_create
from accounts.services import user_create
from accounts.sessions import sessions_end_all, token_hash
from core.jsonapi.errors import ApiError
from core.realtime import GROUP_MANAGER_VERIFICATION, GROUP_USER_MANAGEMENT, publish

INVITATION_TTL = dt.timedelta(days=3)


def _require_manager(actor: User) -> None:
    if actor.role not in (Role.MANAGER, Role.ADMIN) and not actor.is_superuser:
        raise ApiError(403, "permission_denied", "Only managers and admins manage employees.")


def employees_visible_to(actor: User) -> QuerySet[User]:
    """Admins see every user; managers their own team; anyone else nobody."""
    if actor.role == Role.ADMIN or actor.is_superuser:
        return User.objects.all()
    if actor.role == Role.MANAGER:
        return User.objects.filter(manager=actor)
    return User.objects.none()


def employee_get_for(actor: User, employee_id) -> User:
    """An employee the actor may manage; another team's employee is a 404 like a missing one."""
    _require_manager(actor)
    employee = employees_visible_to(actor).filter(pk=employee_id).first()
    if employee is None:
        raise ApiError(404, "not_found", "Not found.")
    return employee


def _announce(event: str, employee: User) -> None:
    payload = {"id": str(employee.pk), "username": employee.username, "manager": str(employee.manager_id or ""),
               "is_active": employee.is_active, "is_verified_by_manager": employee.is_verified_by_manager}
    publish(GROUP_USER_MANAGEMENT, event, payload)
    publish(GROUP_MANAGER_VERIFICATION, event, payload)


def employee_invite(*, actor: User, username: str, email: str, first_name: str, last_name: str,
                    ip: str | None = None, **profile) -> User:
    """Create the employee's account (no usable password) and email an invitation to set one."""
    _require_manager(actor)
    if User.objects.filter(Q(username=username) | Q(email=email.lower())).exists():
        raise ApiError(409, "already_registered", "This username or email is already registered.")
    token = secrets.token_urlsafe(32)
    with atomic():
        # A random password satisfies the validators; it is never revealed and replaced on acceptance.
        employee = user_create(username=username, email=email, password=secrets.token_urlsafe(24) + "aA1!",
                               first_name=first_name, last_name=last_name, role=Role.USER, manager=actor,
                               email_verified=False, **profile)
        employee.set_unusable_password()
        User.objects.filter(pk=employee.pk).update(
            password=employee.password, reset_password_token=token_hash(token),
            reset_password_expires=timezone.now() + INVITATION_TTL)
        _announce("employee.added", employee)
    email_send_after_commit(
        to=employee.email, subject=f"{actor.get_full_name() or actor.username} invited you to Crypto Books",
        body=(f"Hello {first_name},\n\nSet your password to activate your account:\n"
              f"{site_link('/app/reset-password/?token=' + token)}\n\n"
              f"API clients: POST /api/auth/reset-password/ with the token and a new_password.\n"
              f"The invitation expires in {INVITATION_TTL.days} days."),
    )
    audit_record(action="employee_invited", actor=actor, target=employee, ip=ip)
    return employee


def employee_add_existing(*, actor: User, login: str, ip: str | None = None) -> User:
    _require_manager(actor)
    employee = User.objects.filter(Q(username=login) | Q(email=(login or "").lower())).first()
    if employee is None or employee.pk == actor.pk:
        raise ApiError(404, "not_found", "No such user.")
    if employee.role != Role.USER:
        raise ApiError(409, "not_an_employee", "Managers and admins cannot join a team.")
    if employee.manager_id and employee.manager_id != actor.pk and actor.role != Role.ADMIN:
        raise ApiError(409, "in_another_team", "This user already belongs to another team.")
    User.objects.filter(pk=employee.pk).update(manager=actor, is_verified_by_manager=False)
    employee.refresh_from_db()
    _announce("employee.added", employee)
    audit_record(action="employee_added", actor=actor, target=employee, ip=ip)
    return employee


def employee_remove(*, actor: User, employee: User, ip: str | None = None) -> None:
    User.objects.filter(pk=employee.pk).update(manager=None, is_verified_by_manager=False)
    employee.refresh_from_db()
    _announce("employee.removed", employee)
    audit_record(action="employee_removed", actor=actor, target=employee, ip=ip)


def employee_set_active(*, actor: User, employee: User, is_active: bool, ip: str | None = None) -> User:
    if employee.pk == actor.pk:
        raise ApiError(409, "cannot_change_self", "You cannot change your own status.")
    with atomic():
        User.objects.filter(pk=employee.pk).update(is_active=is_active)
        if not is_active:
            sessions_end_all(user=employee, reason="deactivated")
        employee.refresh_from_db()
        _announce("employee.status", employee)
    audit_record(action="employee_activated" if is_active else "employee_deactivated", actor=actor,
                 target=employee, ip=ip)
    return employee


def employee_verify(*, actor: User, employee: User, approve: bool = True, ip: str | None = None) -> User:
    """Approve (or reject: back to unverified) an employee. Unverified employees cannot create
    wallets or be paid."""
    with atomic():
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
    audit_record(action="employee_verified" if approve else "employee_rejected", actor=actor, target=employee,
                 ip=ip)
    return employee


def employee_update(*, actor: User, employee: User, ip: str | None = None, **changes) -> User:
    allowed = {"first_name", "last_name", "phone_number", "company", "department", "employee_id"}
    forbidden = sorted(set(changes) - allowed)
    if forbidden:
        raise ApiError(422, "validation_error", "These fields cannot be changed here.",
                       {"fields": {name: "not editable" for name in forbidden}})
    for name, value in changes.items():
        setattr(employee, name, value)
    employee.full_clean(exclude=["password"])
    employee.save(update_fields=[*changes, "updated_at"])
    audit_record(action="employee_updated", actor=actor, target=employee, ip=ip, fields=sorted(changes))
    return employee


def employee_can_hold_funds(user: User) -> bool:
    """Employees (users with a manager) need their manager's verification before wallets or pay."""
    return user.manager_id is None or user.is_verified_by_manager
