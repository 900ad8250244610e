"""Invitations: joining an organization is consented.

A manager invites an email address (USER only; an admin any role: core.permissions.can_invite). The
invitation is emailed through the configured SMTP server after commit with a link to
/app/invitations/accept/?token=...; only the token's hash is stored. The invitee (the user whose
email it is) accepts or declines it in the app or the API; a new person registers from the link
(accounts.registration). Nobody moves until they accept. An invitation is PENDING until it is
ACCEPTED, DECLINED or REVOKED; a PENDING one past `expires_at` is expired (410 `invitation_expired`);
answering one that is no longer pending is 409 `invitation_not_pending`.

Accepting moves the user into the organization with the invited role (role group and staff flag
through accounts.services); a plain user gets the inviter as manager, unverified, so the manager
verification flow runs. The last admin of an organization with other members cannot accept
(409 `last_admin`): their organization would be left without an admin.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.audit import audit_record
from accounts.emails import email_send_after_commit, site_link
from accounts.models import Invitation, InvitationStatus, NotificationPriority, NotificationType, User
from accounts.membership import last_admin_check
from accounts.notifications import notification_create
from accounts.services import user_move_to_organization
from accounts.sessions import token_hash
from accounts.validators import email_validate
from core import permissions
from core.errors import Conflict, ErrorCode, Expired, InvalidRequest, NotFound
from core.models import Organization
from core.permissions import Role, require, require_own
from core.realtime import StaffFeed, publish, staff_feed_group
from core.transactions import in_transaction

ACCEPT_PATH = "/app/invitations/accept/"


def invitation_ttl() -> dt.timedelta:
    return dt.timedelta(seconds=settings.INVITATION_TTL_SECONDS)


def invitation_is_expired(invitation: Invitation) -> bool:
    return invitation.status == InvitationStatus.PENDING and invitation.expires_at <= timezone.now()


def _announce(invitation: Invitation, event: str) -> None:
    publish(staff_feed_group(invitation.organization_id, StaffFeed.USER_MANAGEMENT), event, {
        "id": str(invitation.pk), "email": invitation.email, "role": invitation.role, "status": invitation.status,
    })


# --- reads -----------------------------------------------------------------------------------------------

def invitations_sent(actor: User) -> QuerySet[Invitation]:
    """The invitations of the actor's organization (managers and admins; nobody else)."""
    if not permissions.can_manage_team(actor):
        return Invitation.objects.none()
    return Invitation.objects.for_actor(actor)


def invitations_received(user: User) -> QuerySet[Invitation]:
    """The pending, unexpired invitations addressed to the user's email, from any organization."""
    if not permissions.can_use_backoffice(user) or not user.email:
        return Invitation.objects.none()
    return Invitation.objects.filter(email=user.email.lower(), status=InvitationStatus.PENDING,
                                     expires_at__gt=timezone.now())


def invitations_visible_to(user: User) -> QuerySet[Invitation]:
    """Sent (a manager's organization's) and received (pending, addressed to them), in one query."""
    received = Q(email=(user.email or "").lower(), status=InvitationStatus.PENDING, expires_at__gt=timezone.now())
    if permissions.can_manage_team(user):
        return Invitation.objects.filter(Q(organization_id=user.organization_id) | received)
    return invitations_received(user)


def invitation_addressed_to(user: User, invitation_id) -> Invitation:
    """An invitation addressed to the user's email (whatever its state); anyone else's is a 404."""
    invitation = Invitation.objects.filter(pk=invitation_id, email=(user.email or "").lower()).first()
    if invitation is None or not permissions.can_use_backoffice(user):
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    return invitation


def invitation_of_organization(actor: User, invitation_id) -> Invitation:
    invitation = invitations_sent(actor).filter(pk=invitation_id).first()
    if invitation is None:
        require(permissions.can_manage_team(actor), "Only managers and admins manage invitations.")
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    return invitation


def invitation_by_token(token: str) -> Invitation:
    invitation = Invitation.objects.filter(token_hash=token_hash(token or "")).first() if token else None
    if invitation is None:
        raise InvalidRequest(ErrorCode.INVALID_TOKEN, "This invitation link is invalid.")
    return invitation


def invitation_check_open(invitation: Invitation) -> None:
    """410 when expired, 409 when already answered or revoked."""
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(ErrorCode.INVITATION_NOT_PENDING,
                       f"This invitation was already {invitation.get_status_display().lower()}.",
                       {"status": invitation.status})
    if invitation_is_expired(invitation):
        raise Expired(ErrorCode.INVITATION_EXPIRED, "This invitation has expired; ask for a new one.",
                       {"expired_at": invitation.expires_at.isoformat()})


# --- writes ----------------------------------------------------------------------------------------------

def invitation_create(*, actor: User, email: str, role: str, ip: str | None = None) -> Invitation:
    """Invite `email` into the actor's organization with `role`. A pending invitation of the same
    organization to the same address is replaced (revoked): the newest link is the one that works."""
    require(permissions.can_manage_team(actor), "Only managers and admins invite people.")
    if role not in Role.values:
        raise ValidationError({"role": f"one of {', '.join(Role.values)}"})
    require(permissions.can_invite(actor, role), "A manager invites users only; an admin invites any role.")
    email = (email or "").strip().lower()
    email_validate(email)
    if User.objects.filter(organization_id=actor.organization_id, email=email).exists():
        raise Conflict(ErrorCode.ALREADY_MEMBER, "This person is already a member of your organization.")
    organization = Organization.objects.get(pk=actor.organization_id)
    token = secrets.token_urlsafe(32)
    def invite_write():
        Invitation.objects.filter(organization_id=organization.pk, email=email,
                                  status=InvitationStatus.PENDING).update(
            status=InvitationStatus.REVOKED, responded_at=timezone.now())
        invitation = Invitation.objects.create(
            organization=organization, email=email, role=role, invited_by=actor, token_hash=token_hash(token),
            expires_at=timezone.now() + invitation_ttl())
        invitee = User.objects.filter(email=email, is_active=True).first()
        if invitee is not None:
            notification_create(
                user=invitee, type=NotificationType.SYSTEM, priority=NotificationPriority.MEDIUM,
                title=f"Invitation to join {organization.name}",
                message=f"{actor.get_full_name() or actor.username} invited you to join {organization.name} "
                        f"as {invitation.get_role_display()}.",
                action_url="/app/invitations/", action_text="Answer", metadata={"invitation": str(invitation.pk)})
        _announce(invitation, "invitation.created")
        return invitation
    invitation = in_transaction(invite_write)
    inviter = actor.get_full_name() or actor.username
    hours = settings.INVITATION_TTL_SECONDS // 3600
    validity = f"{hours // 24} days" if hours >= 48 else f"{hours} hours"
    email_send_after_commit(
        to=email, subject=f"{inviter} invited you to join {organization.name} on Crypto Books",
        body=(f"Hello,\n\n{inviter} invited you to join {organization.name} as {invitation.get_role_display()}.\n\n"
              f"Open the invitation to accept or decline it (log in, or create an account with this address):\n"
              f"{site_link(ACCEPT_PATH + '?token=' + token)}\n\n"
              f"API clients: log in, then POST /api/auth/invitations/accept-token/ with {{\"token\": \"{token}\"}}, "
              f"or register with POST /api/auth/register/ and \"invitation_token\".\n"
              f"The invitation expires in {validity}."),
    )
    audit_record(action="invitation_created", actor=actor, target=invitation, ip=ip, email=email, role=role)
    return invitation


def _invitee_check(invitation: Invitation, user: User) -> None:
    if (user.email or "").lower() != invitation.email:
        # The same answer as for an invitation that does not exist: no oracle for other addresses.
        raise NotFound(ErrorCode.NOT_FOUND, "This invitation is for another email address.")


def _close(invitation: Invitation, status: str, **fields) -> None:
    """Compare-and-set from PENDING: an invitation is answered once, even under concurrent clicks."""
    changed = Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.PENDING).update(
        status=status, responded_at=timezone.now(), **fields)
    if not changed:
        invitation.refresh_from_db()
        invitation_check_open(invitation)
    invitation.refresh_from_db()


def invitation_manager(invitation: Invitation) -> User | None:
    """A plain user reports to the inviter, if the inviter still manages people in that organization."""
    if not permissions.role_reports_to_manager(invitation.role) or invitation.invited_by_id is None:
        return None
    inviter = User.objects.filter(pk=invitation.invited_by_id, organization_id=invitation.organization_id).first()
    return inviter if inviter is not None and permissions.can_manage_team(inviter) else None


def invitation_accept(*, invitation: Invitation, user: User, ip: str | None = None) -> User:
    """The invitee joins the inviting organization with the invited role."""
    _invitee_check(invitation, user)
    invitation_check_open(invitation)
    if str(user.organization_id) == str(invitation.organization_id):
        raise Conflict(ErrorCode.ALREADY_MEMBER, "You are already a member of this organization.")
    last_admin_check(user)
    organization = Organization.objects.get(pk=invitation.organization_id)
    left_id = user.organization_id
    def accept_write():
        _close(invitation, InvitationStatus.ACCEPTED, accepted_by=user)
        user_move_to_organization(user=user, organization=organization, role=invitation.role,
                                  manager=invitation_manager(invitation))
        if invitation.invited_by_id:
            inviter = User.objects.filter(pk=invitation.invited_by_id).first()
            if inviter is not None:
                notification_create(user=inviter, type=NotificationType.SYSTEM, title="Invitation accepted",
                                    message=f"{user.get_full_name() or user.username} joined {organization.name}.",
                                    action_url="/app/team/verification/" if user.manager_id else "")
        _announce(invitation, "invitation.accepted")
        payload = {"id": str(user.pk), "username": user.username, "manager": str(user.manager_id or ""),
                   "is_active": user.is_active, "is_verified_by_manager": user.is_verified_by_manager}
        publish(staff_feed_group(organization.pk, StaffFeed.USER_MANAGEMENT), "employee.added", payload)
        publish(staff_feed_group(organization.pk, StaffFeed.MANAGER_VERIFICATION), "employee.added", payload)
    in_transaction(accept_write)
    audit_record(action="invitation_accepted", actor=user, target=invitation, ip=ip, organization=organization,
                 left_organization=str(left_id or ""), role=invitation.role)
    return user


def invitation_decline(*, invitation: Invitation, user: User, ip: str | None = None) -> Invitation:
    _invitee_check(invitation, user)
    invitation_check_open(invitation)
    def decline_write():
        _close(invitation, InvitationStatus.DECLINED)
        _announce(invitation, "invitation.declined")
        if invitation.invited_by_id:
            inviter = User.objects.filter(pk=invitation.invited_by_id).first()
            if inviter is not None:
                notification_create(user=inviter, type=NotificationType.SYSTEM, title="Invitation declined",
                                    message=f"{invitation.email} declined your invitation.")
    in_transaction(decline_write)
    audit_record(action="invitation_declined", actor=user, target=invitation, ip=ip,
                 organization=invitation.organization_id)
    return invitation


def invitation_revoke(*, invitation: Invitation, actor: User, ip: str | None = None) -> Invitation:
    """A manager (invitations of plain users) or admin (any) of the organization withdraws a pending
    invitation; its link stops working."""
    require_own(actor, invitation)
    require(permissions.can_invite(actor, invitation.role), "Only an admin revokes an invitation to this role.")
    if invitation.status != InvitationStatus.PENDING:
        invitation_check_open(invitation)
    def revoke_write():
        _close(invitation, InvitationStatus.REVOKED)
        _announce(invitation, "invitation.revoked")
    in_transaction(revoke_write)
    audit_record(action="invitation_revoked", actor=actor, target=invitation, ip=ip)
    return invitation


def invitation_accept_on_registration(*, invitation: Invitation, user: User) -> None:
    """Inside the registration's transaction: the new account was made in the invitation's
    organization with its role; the invitation is now accepted (once)."""
    _close(invitation, InvitationStatus.ACCEPTED, accepted_by=user)
    _announce(invitation, "invitation.accepted")
