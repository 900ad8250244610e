"""The output schemas more than one accounts router answers with: a user, an organization's reference
and an invitation."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from accounts.invitations import invitation_is_expired
from core.jsonapi.types import ObjectIdStr


class OrganizationRefOut(Schema):
    id: ObjectIdStr
    name: str


class UserOut(Schema):
    id: ObjectIdStr
    username: str
    email: str
    first_name: str
    last_name: str
    role: str
    is_accountant: bool
    organization: OrganizationRefOut | None
    email_verified: bool
    is_verified_by_manager: bool
    company: str
    department: str
    phone_number: str
    wallet_address: str
    employee_id: str | None
    max_wallets: int
    reporting_fiat: str = Field(description="the organization's")
    cost_basis_method: str = Field(description="the organization's")
    cost_basis_lot_scope: str = Field(description="the organization's")
    last_login: datetime | None
    date_joined: datetime

    # The tax settings are the organization's (core.models.Organization); the same keys as before.
    @staticmethod
    def resolve_reporting_fiat(obj):
        return obj.organization.reporting_fiat if obj.organization_id else ""

    @staticmethod
    def resolve_cost_basis_method(obj):
        return obj.organization.cost_basis_method if obj.organization_id else ""

    @staticmethod
    def resolve_cost_basis_lot_scope(obj):
        return obj.organization.cost_basis_lot_scope if obj.organization_id else ""


class InvitationOut(Schema):
    id: ObjectIdStr
    organization: OrganizationRefOut
    email: str
    role: str
    status: str
    is_expired: bool
    invited_by: str = Field(description="the inviter's name")
    expires_at: datetime
    responded_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_is_expired(obj):
        return invitation_is_expired(obj)

    @staticmethod
    def resolve_invited_by(obj):
        inviter = obj.invited_by
        return (inviter.get_full_name() or inviter.username) if inviter else ""
