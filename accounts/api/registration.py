"""/api/auth/: registering (also from an invitation link), verifying the email address, and the
passwords: forgotten, reset with the emailed token, changed."""

from __future__ import annotations

from ninja import Field, Router, Status

from accounts.api.schemas import UserOut
from accounts.passwords import password_change, password_forgot, password_reset
from accounts.registration import email_verify, user_register, verification_resend
from core.jsonapi.auth import api_auth, client_ip
from core.jsonapi.schemas import MessageOut, StrictSchema

router = Router()


class RegisterIn(StrictSchema):
    username: str = Field(min_length=3, max_length=150, pattern=r"^[\w.@+-]+$")
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)
    first_name: str = Field(min_length=1, max_length=150)
    last_name: str = Field(min_length=1, max_length=150)
    company: str = Field("", max_length=200)
    department: str = Field("", max_length=200)
    phone_number: str = Field("", max_length=32)
    invitation_token: str | None = Field(None, max_length=300, description=(
        "the token of an invitation link: join the inviting organization (the email must be the invited "
        "address) instead of getting a new organization"))


@router.post("/register/", response={201: UserOut}, auth=None, summary="Register a new user", description=(
    "Without `invitation_token`: a new organization named from `company` (else after you) with you as its "
    "ADMIN, and a verification email. With the token of an invitation link: you join the inviting "
    "organization with the invited role, the invitation is accepted and the address counts as verified."))
def register(request, payload: RegisterIn):
    return Status(201, user_register(ip=client_ip(request), **payload.dict()))


class TokenIn(StrictSchema):
    token: str = Field(min_length=1, max_length=300)


@router.post("/verify-email/", response=UserOut, auth=None, summary="Verify an email address")
def verify_email(request, payload: TokenIn):
    return email_verify(token=payload.token, ip=client_ip(request))


class EmailIn(StrictSchema):
    email: str = Field(max_length=254)


@router.post("/resend-verification/", response={202: MessageOut}, auth=None,
             summary="Send the verification email again")
def resend_verification(request, payload: EmailIn):
    verification_resend(email=payload.email, ip=client_ip(request))
    return Status(202, {"message": "If that address is registered and not yet verified, a new link is on its way."})


@router.post("/forgot-password/", response={202: MessageOut}, auth=None, summary="Ask for a reset link")
def forgot_password(request, payload: EmailIn):
    password_forgot(email=payload.email, ip=client_ip(request))
    return Status(202, {"message": "If that address is registered, a reset link is on its way."})


class ResetIn(StrictSchema):
    token: str = Field(min_length=1, max_length=300)
    new_password: str = Field(max_length=128)


@router.post("/reset-password/", response=MessageOut, auth=None, summary="Set a new password with a reset token")
def reset_password(request, payload: ResetIn):
    password_reset(token=payload.token, new_password=payload.new_password, ip=client_ip(request))
    return {"message": "Password reset; log in with the new password."}


class ChangePasswordIn(StrictSchema):
    old_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(max_length=128)


@router.post("/change-password/", response=MessageOut, auth=api_auth, summary="Change the password")
def change_password(request, payload: ChangePasswordIn):
    password_change(user=request.user, old_password=payload.old_password, new_password=payload.new_password,
                    current_session=getattr(request, "user_session", None), ip=client_ip(request))
    return {"message": "Password changed; your other sessions were ended."}
