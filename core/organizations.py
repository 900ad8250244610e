"""Writes for organizations. Creating one announces `organization_created` so the apps above give it
what every organization starts with (the ledger: its default chart of accounts) without core
importing them. The signal is sent inside the caller's transaction: what the receivers write commits
or rolls back with the organization."""

from __future__ import annotations

import django.dispatch
from django.core.exceptions import ValidationError

from core.models import Organization

# sender=Organization, organization=<Organization>, using=<db alias>
organization_created = django.dispatch.Signal()

NAME_MAX_LENGTH = Organization._meta.get_field("name").max_length


def organization_name_for(*, company: str = "", first_name: str = "", last_name: str = "",
                          username: str = "") -> str:
    """The company's name, or the person's ("Ada Lovelace", else the username)."""
    name = (company or "").strip() or " ".join(p for p in (first_name.strip(), last_name.strip()) if p)
    return (name or username or "My organization")[:NAME_MAX_LENGTH]


def organization_create(*, name: str, is_personal: bool = False, using: str = "default",
                        **settings) -> Organization:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "An organization needs a name."})
    organization = Organization(name=name[:NAME_MAX_LENGTH], is_personal=is_personal, **settings)
    organization.full_clean(exclude=["logo"])
    organization.save(using=using)
    organization_created.send(sender=Organization, organization=organization, using=using)
    return organization


# --- the reporting fiat is fixed once the books hold values in it ---------------------------------
# Apps holding values in the organization's fiat (wallets: transactions) register a check here in
# their AppConfig.ready(); core never imports them.
_reporting_fiat_lock_checks: list = []


def reporting_fiat_lock_register(check) -> None:
    """`check(organization) -> str | None`: a reason the fiat can no longer change, or None."""
    if check not in _reporting_fiat_lock_checks:
        _reporting_fiat_lock_checks.append(check)


def reporting_fiat_lock_reason(organization: Organization) -> str | None:
    for check in _reporting_fiat_lock_checks:
        reason = check(organization)
        if reason:
            return reason
    return None
