"""A user's own profile. The tax keys it still accepts are the organization's settings
(accounts.organizations), changed here only by the organization's admin."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from eth_utils import is_address, to_checksum_address

from accounts.audit import audit_record
from accounts.models import User
from accounts.organizations import organization_settings_update
from core import permissions
from core.errors import ErrorCode, Forbidden


# The person's own fields; the tax settings below are the organization's (accounts.organizations).
PERSONAL_FIELDS = ("first_name", "last_name", "phone_number", "company", "department", "wallet_address")
ORGANIZATION_TAX_FIELDS = ("reporting_fiat", "cost_basis_method", "cost_basis_lot_scope")
PROFILE_FIELDS = PERSONAL_FIELDS + ORGANIZATION_TAX_FIELDS


def profile_update(*, user: User, ip: str | None = None, **changes) -> User:
    """A user's own profile: only PROFILE_FIELDS; never role, flags, lockout fields or manager. The
    tax settings (reporting fiat, cost-basis method, lot scope) are the organization's: changing them
    here needs core.permissions.can_manage_organization, exactly as PUT /api/auth/organization/."""
    forbidden = sorted(set(changes) - set(PROFILE_FIELDS))
    if forbidden:
        raise ValidationError({name: "this field cannot be changed here" for name in forbidden})
    organization_changes = {name: changes.pop(name) for name in ORGANIZATION_TAX_FIELDS if name in changes}
    if organization_changes and not permissions.can_manage_organization(user):
        raise Forbidden(ErrorCode.PERMISSION_DENIED, "The tax settings are the organization's: only its admin changes them.",
                        {"fields": sorted(organization_changes)})
    if changes.get("wallet_address"):
        if not is_address(changes["wallet_address"]):
            raise ValidationError({"wallet_address": "not an Ethereum address"})
        changes["wallet_address"] = to_checksum_address(changes["wallet_address"])
    for name, value in changes.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    if organization_changes:
        organization_settings_update(actor=user, ip=ip, **organization_changes)
        user.organization.refresh_from_db()
    if changes:
        user.save(update_fields=[*changes, "updated_at"])
        audit_record(action="profile_updated", actor=user, target=user, ip=ip, fields=sorted(changes))
    return user
