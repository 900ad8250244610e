"""/api/auth/organization/ (your organization: its settings, leaving it) and /api/auth/invitations/
(inviting people into it, and answering the invitations addressed to you)."""


from datetime import date
from typing import Literal

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from accounts import invitations, organizations
from accounts.api.schemas import InvitationOut, UserOut
from core import permissions
from core.jsonapi.auth import api_auth, client_ip
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.schemas import MessageOut, StrictSchema
from core.jsonapi.types import ObjectIdStr
from core.models import CostBasisMethod, LotScope
from core.permissions import Role

router = Router()  # under /api/auth/


def _member(request):
    permissions.require(permissions.can_use_backoffice(request.user), "You are not a member of an organization.")
    return request.user


# --- /api/auth/organization/ -----------------------------------------------------------------------------

class BrandingOut(Schema):
    logo_url: str
    primary_color: str
    secondary_color: str
    address: str
    tax_id: str
    email: str


class OrganizationOut(Schema):
    id: ObjectIdStr
    name: str
    is_personal: bool
    role: str = Field(description="your role in it")
    is_accountant: bool = Field(description="whether you work its books as an accountant")
    can_manage: bool = Field(description="whether you may change these settings")
    reporting_fiat: str
    reporting_fiat_locked: str | None = Field(description="why the fiat can no longer change, if it cannot")
    cost_basis_method: str
    cost_basis_lot_scope: str
    fiscal_year_start_month: int
    fiscal_year_start_day: int
    time_zone: str
    lock_date: date | None
    branding: BrandingOut
    member_count: int


class BrandingIn(StrictSchema):
    primary_color: str | None = Field(None, max_length=7, description="#RRGGBB, or empty")
    secondary_color: str | None = Field(None, max_length=7, description="#RRGGBB, or empty")
    address: str | None = Field(None, max_length=1000)
    tax_id: str | None = Field(None, max_length=64)
    email: str | None = Field(None, max_length=254)


class OrganizationIn(StrictSchema):
    name: str | None = Field(None, min_length=1, max_length=200)
    reporting_fiat: str | None = Field(None, min_length=3, max_length=3)
    cost_basis_method: CostBasisMethod | None = None
    cost_basis_lot_scope: LotScope | None = None
    fiscal_year_start_month: int | None = Field(None, ge=1, le=12)
    fiscal_year_start_day: int | None = Field(None, ge=1, le=31)
    time_zone: str | None = Field(None, min_length=1, max_length=64)
    branding: BrandingIn | None = None


@router.get("/organization/", response=OrganizationOut, auth=api_auth, summary="Your organization",
            tags=["organization"])
def organization_get(request):
    return organizations.organization_summary(_member(request))


@router.put("/organization/", response=OrganizationOut, auth=api_auth, summary="Change your organization's settings",
            tags=["organization"], description=(
    "Admins of the organization only. The reporting fiat changes only while nothing holds values in it "
    "(409 `reporting_fiat_locked` with the reason otherwise); colours are #RRGGBB."))
def organization_put(request, payload: OrganizationIn):
    user = _member(request)
    changes = payload.dict(exclude_none=True, exclude={"branding"})
    if payload.branding is not None:
        changes.update(payload.branding.dict(exclude_none=True))
    organizations.organization_settings_update(actor=user, ip=client_ip(request), **changes)
    return organizations.organization_summary(user)


@router.post("/organization/leave/", response=MessageOut, auth=api_auth, summary="Leave your organization",
             tags=["organization"], description=(
    "You move to a fresh personal organization of your own (as its admin); nothing of yours is deleted and "
    "the wallets you made stay with the organization you leave. The last admin of an organization with "
    "other members cannot leave (409 `last_admin`)."))
def organization_leave(request):
    user = organizations.organization_leave(user=_member(request), ip=client_ip(request))
    return {"message": f"You left; your own organization is now {user.organization.name}."}


# --- /api/auth/invitations/ ------------------------------------------------------------------------------

class InvitationIn(StrictSchema):
    email: str = Field(max_length=254)
    role: Role = Field(Role.USER, description="a manager invites USER only")


class InvitationTokenIn(StrictSchema):
    token: str = Field(min_length=1, max_length=300)


@router.post("/invitations/", response={201: InvitationOut}, auth=api_auth, summary="Invite someone by email",
             tags=["invitations"], description=(
    "Managers (role USER) and admins (any role): emails a link valid INVITATION_TTL_SECONDS. A pending "
    "invitation to the same address is replaced."))
def invitation_post(request, payload: InvitationIn):
    invitation = invitations.invitation_create(actor=request.user, email=payload.email, role=payload.role,
                                               ip=client_ip(request))
    return Status(201, invitation)


@router.get("/invitations/", response=list[InvitationOut], auth=api_auth, summary="Invitations",
            tags=["invitations"], description=(
    "`box=received`: the pending invitations addressed to your email; `box=sent` (managers and admins): "
    "your organization's; by default both that you may see."))
@paginate(LimitOffsetNoCount)
def invitation_list(request, box: Literal["all", "sent", "received"] = "all"):
    user = _member(request)
    if box == "sent":
        permissions.require(permissions.can_manage_team(user), "Only managers and admins see the invitations sent.")
        queryset = invitations.invitations_sent(user)
    elif box == "received":
        queryset = invitations.invitations_received(user)
    else:
        queryset = invitations.invitations_visible_to(user)
    return queryset.select_related("organization", "invited_by").order_by("-created_at", "-id")


@router.post("/invitations/accept-token/", response=UserOut, auth=api_auth, tags=["invitations"],
             summary="Accept an invitation from its link's token (you must be the invitee)")
def invitation_accept_token(request, payload: InvitationTokenIn):
    invitation = invitations.invitation_by_token(payload.token)
    user = invitations.invitation_accept(invitation=invitation, user=_member(request), ip=client_ip(request))
    user.refresh_from_db()
    return user


@router.post("/invitations/{oid:invitation_id}/accept/", response=UserOut, auth=api_auth, tags=["invitations"],
             summary="Accept an invitation addressed to you", description=(
    "You join the organization with the invited role (a plain user reports to the inviter, awaiting "
    "verification). The last admin of an organization with other members cannot (409 `last_admin`); an "
    "expired invitation is 410, one already answered or revoked 409."))
def invitation_accept(request, invitation_id: str):
    user = _member(request)
    invitation = invitations.invitation_addressed_to(user, invitation_id)
    user = invitations.invitation_accept(invitation=invitation, user=user, ip=client_ip(request))
    user.refresh_from_db()
    return user


@router.post("/invitations/{oid:invitation_id}/decline/", response=InvitationOut, auth=api_auth,
             tags=["invitations"], summary="Decline an invitation addressed to you")
def invitation_decline(request, invitation_id: str):
    user = _member(request)
    invitation = invitations.invitation_addressed_to(user, invitation_id)
    return invitations.invitation_decline(invitation=invitation, user=user, ip=client_ip(request))


@router.post("/invitations/{oid:invitation_id}/revoke/", response=InvitationOut, auth=api_auth,
             tags=["invitations"], summary="Revoke an invitation of your organization")
def invitation_revoke(request, invitation_id: str):
    invitation = invitations.invitation_of_organization(request.user, invitation_id)
    return invitations.invitation_revoke(invitation=invitation, actor=request.user, ip=client_ip(request))
