"""Self-registration and email verification (single-use, expiring token; only its hash is kept)."""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q

from accounts.audit import audit_record
from accounts.emails import email_send_after_commit, site_link
from accounts.invitations import (invitation_accept_on_registration, invitation_by_token, invitation_check_open,
                                  invitation_manager)
from accounts.models import User
from accounts.ratelimits import rate_limit_hit
from accounts.selectors import user_get_active
from accounts.services import people_event_publish, user_create
from accounts.sessions import auth_rate_limits, token_hash
from accounts.validators import email_validate
from core.errors import Conflict, ErrorCode, InvalidRequest
from core.models import Organization
from core.transactions import in_transaction


def _verification_token_issue(user: User) -> str:
    """`<user id>.<expiry epoch>.<secret>`: the expiry is covered by the stored hash, so it cannot be
    altered, and the user is found without scanning."""
    expires = int(time.time()) + settings.EMAIL_VERIFICATION_TTL_SECONDS
    token = f"{user.pk}.{expires}.{secrets.token_urlsafe(32)}"
    User.objects.filter(pk=user.pk).update(verification_token=token_hash(token))
    return token


def _send_verification(user: User, token: str) -> None:
    email_send_after_commit(
        to=user.email,
        subject="Confirm your email address",
        body=(f"Hello {user.first_name},\n\nConfirm your email address to activate your account:\n"
              f"{site_link('/app/verify-email/?token=' + token)}\n\n"
              f"API clients: POST /api/auth/verify-email/ with {{\"token\": \"{token}\"}}.\n"
              f"The link expires in {settings.EMAIL_VERIFICATION_TTL_SECONDS // 3600} hours."),
    )


def user_register(*, username: str, email: str, password: str, first_name: str, last_name: str,
                  ip: str | None, invitation_token: str | None = None, **profile) -> User:
    """A new account. Without an invitation: a new organization (named from `company`, else after the
    person) with the registrant as its ADMIN, and a verification email. With an invitation token (the
    link of an invitation email): the account joins the inviting organization with the invited role
    (a plain user reports to the inviter, unverified), the invitation becomes ACCEPTED, and the email,
    which must be the invited address, counts as verified (the token was delivered to it)."""
    auth_rate_limits(scope="register", ip=ip, account=email)
    email_validate(email)
    invitation = None
    if invitation_token:
        invitation = invitation_by_token(invitation_token)
        invitation_check_open(invitation)
        if email.lower() != invitation.email:
            raise ValidationError({"email": "Register with the address the invitation was sent to."})
    taken = User.objects.filter(Q(username=username) | Q(email=email.lower())).first()
    if taken is not None:
        field = "username" if taken.username == username else "email"
        raise Conflict(ErrorCode.ALREADY_REGISTERED, f"This {field} is already registered.", {"field": field})
    if invitation is None:
        user = user_create(username=username, email=email, password=password, first_name=first_name,
                           last_name=last_name, email_verified=False, **profile)
        _send_verification(user, _verification_token_issue(user))
        audit_record(action="register", actor=user, target=user, ip=ip)
        people_event_publish("user.registered", user, role=user.role, email_verified=False, invited=False,
                             platform=True)  # a new organization: the platform's superusers hear of it
        return user
    organization = Organization.objects.get(pk=invitation.organization_id)
    def register_write():
        user = user_create(username=username, email=email, password=password, first_name=first_name,
                           last_name=last_name, organization=organization, role=invitation.role,
                           manager=invitation_manager(invitation), email_verified=True, **profile)
        invitation_accept_on_registration(invitation=invitation, user=user)
        return user
    user = in_transaction(register_write)
    audit_record(action="register", actor=user, target=user, ip=ip, invitation=str(invitation.pk))
    people_event_publish("user.registered", user, role=user.role, email_verified=True, invited=True)
    return user


def email_verify(*, token: str, ip: str | None) -> User:
    invalid = InvalidRequest(ErrorCode.INVALID_TOKEN, "This verification link is invalid or was already used.")
    parts = (token or "").split(".")
    auth_rate_limits(scope="verify-email", ip=ip, account=parts[0] if parts else "")
    if len(parts) != 3 or not parts[1].isdigit():
        raise invalid
    user = user_get_active(user_id=parts[0])
    if user is None or not user.verification_token or user.verification_token != token_hash(token):
        raise invalid
    if int(parts[1]) < time.time():
        raise InvalidRequest(ErrorCode.TOKEN_EXPIRED, "This verification link has expired; ask for a new one.")
    # Compare-and-set on the hash: the token works once even if clicked twice at the same moment.
    used = User.objects.filter(pk=user.pk, verification_token=token_hash(token)).update(
        email_verified=True, verification_token="")
    if not used:
        raise invalid
    audit_record(action="email_verified", actor=user, target=user, ip=ip)
    user.refresh_from_db()
    people_event_publish("user.email_verified", user, email_verified=True)
    return user


def verification_resend(*, email: str, ip: str | None) -> None:
    """Same answer whether or not the address exists; at most 3 sends an hour per address."""
    auth_rate_limits(scope="resend-verification", ip=ip, account=email)
    limit, window = settings.VERIFICATION_RESEND_LIMIT
    rate_limit_hit(scope="resend-verification:quota", subject=email, limit=limit, window_seconds=window)
    user = User.objects.filter(email=(email or "").lower(), is_active=True, email_verified=False).first()
    if user is not None:
        _send_verification(user, _verification_token_issue(user))

