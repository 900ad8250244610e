"""A member's organization: its settings (admins), leaving it (anyone), being removed from it (a
manager or admin), with the rule that an organization with members always keeps an admin.

Leaving and removal never delete anything: the person moves into a fresh personal organization of
their own, as its ADMIN, with no manager; their wallets and everything booked stay with the
organization they were made in (whose books they are). Both are audited in the organization that was
left, and the person is told (a notification, and an email).
"""

from __future__ import annotations

import re
import zoneinfo

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.audit import audit_record
from accounts.emails import email_send_after_commit
from accounts.membership import last_admin_check, organization_member_count, other_members_exist
from accounts.models import NotificationPriority, NotificationType, User
from accounts.notifications import notification_create
from accounts.services import user_move_to_organization
from core import permissions
from core.currencies import REPORTING_FIATS
from core.errors import Conflict, ErrorCode
from core.models import CostBasisMethod, LotScope, Organization
from core.organizations import organization_create, organization_name_for, reporting_fiat_lock_reason
from core.permissions import Role, require
from core.realtime import StaffFeed, publish, staff_feed_group
from core.transactions import in_transaction

COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
SETTINGS_FIELDS = ("name", "reporting_fiat", "cost_basis_method", "cost_basis_lot_scope",
                   "fiscal_year_start_month", "fiscal_year_start_day", "time_zone")
BRANDING_FIELDS = ("primary_color", "secondary_color", "address", "tax_id", "email")
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


# --- settings --------------------------------------------------------------------------------------------

def _clean_settings(organization: Organization, changes: dict) -> dict:
    errors: dict[str, str] = {}
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"]:
            errors["name"] = "An organization needs a name."
    if "reporting_fiat" in changes:
        fiat = (changes["reporting_fiat"] or "").upper()
        changes["reporting_fiat"] = fiat
        if fiat not in REPORTING_FIATS:
            errors["reporting_fiat"] = f"not a supported fiat currency: {fiat!r}"
    if "cost_basis_method" in changes and changes["cost_basis_method"] not in CostBasisMethod.values:
        errors["cost_basis_method"] = f"one of {', '.join(CostBasisMethod.values)}"
    if "cost_basis_lot_scope" in changes and changes["cost_basis_lot_scope"] not in LotScope.values:
        errors["cost_basis_lot_scope"] = f"one of {', '.join(LotScope.values)}"
    month = changes.get("fiscal_year_start_month", organization.fiscal_year_start_month)
    day = changes.get("fiscal_year_start_day", organization.fiscal_year_start_day)
    if not isinstance(month, int) or not 1 <= month <= 12:
        errors["fiscal_year_start_month"] = "a month, 1 to 12"
    elif not isinstance(day, int) or not 1 <= day <= min(DAYS_IN_MONTH[month - 1], 28 if month == 2 else 31):
        errors["fiscal_year_start_day"] = "a day that exists in that month every year"
    if "time_zone" in changes:
        try:
            zoneinfo.ZoneInfo(changes["time_zone"] or "")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["time_zone"] = f"not a time zone: {changes['time_zone']!r}"
    for name in ("primary_color", "secondary_color"):
        if changes.get(name) and not COLOR.match(changes[name]):
            errors[name] = "a colour as #RRGGBB"
    if errors:
        raise ValidationError(errors)
    return changes


def organization_settings_update(*, actor: User, ip: str | None = None, **changes) -> Organization:
    """The organization's settings and branding (core.permissions.can_manage_organization). The
    reporting fiat changes only while core.organizations.reporting_fiat_lock_reason says nothing
    holds values in it (409 `reporting_fiat_locked` with the reason otherwise)."""
    permissions.require(permissions.can_manage_organization(actor),
                        "Only an admin of the organization changes its settings.")
    unknown = sorted(set(changes) - set(SETTINGS_FIELDS) - set(BRANDING_FIELDS))
    if unknown:
        raise ValidationError({name: "this field cannot be changed here" for name in unknown})
    organization = Organization.objects.get(pk=actor.organization_id)
    changes = _clean_settings(organization, dict(changes))
    if "reporting_fiat" in changes and changes["reporting_fiat"] != organization.reporting_fiat:
        reason = reporting_fiat_lock_reason(organization)
        if reason:
            raise Conflict(ErrorCode.REPORTING_FIAT_LOCKED, reason, {"fields": {"reporting_fiat": reason}})
    changed = sorted(name for name, value in changes.items() if getattr(organization, name) != value)
    for name in changed:
        setattr(organization, name, changes[name])
    if changed:
        organization.full_clean(exclude=["logo"])
        organization.save(update_fields=[*changed, "updated_at"])
        audit_record(action="organization_updated", actor=actor, target=organization, ip=ip, fields=changed)
    return organization


# --- leaving and removal ---------------------------------------------------------------------------------

def _personal_organization_for(user: User) -> Organization:
    return organization_create(
        name=organization_name_for(first_name=user.first_name, last_name=user.last_name, username=user.username),
        is_personal=True)


def _move_out(*, user: User, actor: User, action: str, ip: str | None, title: str, message: str) -> User:
    """Move `user` out of their organization into a fresh personal one (ADMIN there)."""
    left = Organization.objects.get(pk=user.organization_id)
    def move_out_write():
        personal = _personal_organization_for(user)
        user_move_to_organization(user=user, organization=personal, role=Role.ADMIN)
        notification_create(user=user, type=NotificationType.SYSTEM, priority=NotificationPriority.MEDIUM,
                            title=title, message=message, metadata={"left_organization": str(left.pk)})
        payload = {"id": str(user.pk), "username": user.username, "organization": str(left.pk)}
        publish(staff_feed_group(left.pk, StaffFeed.USER_MANAGEMENT), "employee.removed", payload)
        return personal
    personal = in_transaction(move_out_write)
    email_send_after_commit(to=user.email, subject=f"[Crypto Books] {title}", body=(
        f"Hello {user.first_name},\n\n{message}\n\n"
        f"Your account now has its own organization, \"{personal.name}\", where you are the admin. "
        f"Nothing of yours was deleted; the wallets and records you kept in {left.name} stay with "
        f"{left.name}.\n"))
    audit_record(action=action, actor=actor, target=user, ip=ip, organization=left,
                 left_organization=str(left.pk), new_organization=str(personal.pk))
    return user


def organization_leave(*, user: User, ip: str | None = None) -> User:
    """The member leaves their organization for a fresh personal one. The last admin of an
    organization with other members cannot (409 `last_admin`); nor can someone who is alone in their
    organization (409 `nothing_to_leave`: it is already their own)."""
    require(permissions.can_use_backoffice(user), "You are not a member of an organization.")
    if not other_members_exist(user):
        raise Conflict(ErrorCode.NOTHING_TO_LEAVE, "You are the only member of your organization: it is already your own.")
    last_admin_check(user)
    organization_name = user.organization.name
    return _move_out(user=user, actor=user, action="organization_left", ip=ip,
                     title=f"You left {organization_name}",
                     message=f"You are no longer a member of {organization_name}.")


def member_remove(*, actor: User, member: User, ip: str | None = None) -> User:
    """A manager (plain users) or admin (anyone but themselves) removes a member of their organization
    (core.permissions.can_manage_member); the member moves to a fresh personal organization."""
    if member.pk == actor.pk:
        raise Conflict(ErrorCode.CANNOT_CHANGE_SELF, "You cannot remove yourself; leave the organization instead.")
    require(permissions.can_manage_member(actor, member), "You may not remove this member.")
    organization_name = member.organization.name
    return _move_out(user=member, actor=actor, action="member_removed", ip=ip,
                     title=f"You were removed from {organization_name}",
                     message=f"{actor.get_full_name() or actor.username} removed you from {organization_name}.")


def organization_summary(user: User) -> dict:
    """What GET /api/auth/organization/ answers to any member."""
    organization = Organization.objects.get(pk=user.organization_id)
    return {
        "id": organization.pk, "name": organization.name, "is_personal": organization.is_personal,
        "role": user.role, "is_accountant": user.is_accountant,
        "can_manage": permissions.can_manage_organization(user),
        "reporting_fiat": organization.reporting_fiat,
        "reporting_fiat_locked": reporting_fiat_lock_reason(organization),
        "cost_basis_method": organization.cost_basis_method,
        "cost_basis_lot_scope": organization.cost_basis_lot_scope,
        "fiscal_year_start_month": organization.fiscal_year_start_month,
        "fiscal_year_start_day": organization.fiscal_year_start_day,
        "time_zone": organization.time_zone, "lock_date": organization.lock_date,
        "branding": {"logo_url": organization.logo.url if organization.logo else "",
                     **{name: getattr(organization, name) for name in BRANDING_FIELDS}},
        "member_count": organization_member_count(organization.pk),
        "created_at": organization.created_at or timezone.now(),
    }
