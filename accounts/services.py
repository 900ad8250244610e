"""Writes for users and roles: `<entity>_<action>(*, ...)`, validated and transactional."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError
from django_mongodb_backend.transaction import atomic

from accounts.models import User
from accounts.roles import role_group_name
from core import permissions
from core.models import Organization
from core.organizations import organization_create, organization_name_for
from core.permissions import Role


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
    validate_email(email)
    user = User(
        username=username, email=email.lower(), first_name=first_name, last_name=last_name,
        manager=manager, is_superuser=is_superuser, **profile,
    )
    _apply_role(user, role if organization is not None else Role.ADMIN)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password", "organization"])
    with atomic():
        if organization is None:
            organization = organization_create(
                name=organization_name_for(company=user.company, first_name=first_name, last_name=last_name,
                                           username=username),
                is_personal=not user.company.strip())
        user.organization = organization
        user.save()
        _sync_role_group(user)
    return user


def user_set_role(*, user: User, role: str, actor: User | None, previous_role: str | None = None,
                  ip: str | None = None) -> User:
    """Set a user's role: the field, the role group and the staff flag move together. Only admins
    (or the system, actor None) change a role; an actual change is audited. Calling it with the
    current role re-aligns group and staff flag (the admin does so after every save)."""
    from accounts.audit import audit_record

    previous = previous_role or user.role
    if role != previous and actor is not None and not (actor.is_superuser or actor.role == Role.ADMIN):
        raise PermissionDenied("Only admins change roles.")
    _apply_role(user, role)
    with atomic():
        user.save(update_fields=["role", "is_staff", "updated_at"])
        _sync_role_group(user)
    if role != previous:
        audit_record(action="role_changed", actor=actor, target=user, ip=ip, previous=previous, role=role)
    return user


PROFILE_FIELDS = ("first_name", "last_name", "phone_number", "company", "department", "wallet_address",
                  "reporting_fiat", "cost_basis_method", "cost_basis_lot_scope")


def _checked_reporting_fiat(user: User, fiat: str) -> str:
    """Every stored value is in the user's fiat: it can change only before any transaction exists."""
    from wallets.koinly_format import FIAT
    from wallets.models import Transaction

    fiat = (fiat or "").upper()
    if fiat not in FIAT:
        raise ValidationError({"reporting_fiat": f"not a supported fiat currency: {fiat!r}"})
    if fiat != user.reporting_fiat and Transaction.objects.filter(user=user).exists():
        raise ValidationError({"reporting_fiat": f"your transactions are valued in {user.reporting_fiat}; "
                                                 "the reporting currency cannot change once transactions exist"})
    return fiat


def profile_update(*, user: User, ip: str | None = None, **changes) -> User:
    """A user's own profile: only PROFILE_FIELDS; never role, flags, lockout fields or manager."""
    from accounts.audit import audit_record

    forbidden = sorted(set(changes) - set(PROFILE_FIELDS))
    if forbidden:
        raise ValidationError({name: "this field cannot be changed here" for name in forbidden})
    if changes.get("wallet_address"):
        from eth_utils import is_address, to_checksum_address

        if not is_address(changes["wallet_address"]):
            raise ValidationError({"wallet_address": "not an Ethereum address"})
        changes["wallet_address"] = to_checksum_address(changes["wallet_address"])
    if "reporting_fiat" in changes:
        changes["reporting_fiat"] = _checked_reporting_fiat(user, changes["reporting_fiat"])
    for name, value in changes.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=[*changes, "updated_at"])
    audit_record(action="profile_updated", actor=user, target=user, ip=ip, fields=sorted(changes))
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
