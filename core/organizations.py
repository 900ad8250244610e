"""Writes for organizations. Creating one announces `organization_created` so the apps above give it
what every organization starts with (the ledger: its default chart of accounts) without core
importing them. The signal is sent inside the caller's transaction: what the receivers write commits
or rolls back with the organization."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import django.dispatch
from django.core.exceptions import ValidationError

from django.utils import timezone

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


# --- the organization's calendar ------------------------------------------------------------------
# The books run on the organization's calendar (`Organization.time_zone`, "UTC" by default), never
# the server's TIME_ZONE: an entry's day (its lock-date check and its number's year), the day
# boundaries of statements and balances, a trade's day and price, and every "today". A date-only
# value means the start of that day (midnight) in the organization's zone. Everything below takes
# an organization (or anything with a `time_zone`: a partial read `.only("time_zone", ...)` will do).

UTC = dt.timezone.utc


def organization_zone(organization) -> zoneinfo.ZoneInfo:
    """The organization's time zone (validated when set; UTC when empty or no longer known)."""
    name = getattr(organization, "time_zone", "") or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def organization_today(organization, *, now: dt.datetime | None = None) -> dt.date:
    """Today on the organization's calendar."""
    return (now or timezone.now()).astimezone(organization_zone(organization)).date()


def organization_day_start(organization, day: dt.date) -> dt.datetime:
    """The first instant of `day` in the organization's zone (an aware datetime in UTC). A midnight
    that a daylight-saving jump skips maps to the first instant that exists that day."""
    local = dt.datetime.combine(day, dt.time.min, tzinfo=organization_zone(organization))
    start = local.astimezone(UTC)
    if start.astimezone(local.tzinfo).date() != day:  # a skipped midnight read as the day before
        start = dt.datetime.combine(day, dt.time.min, tzinfo=local.tzinfo).replace(fold=1).astimezone(UTC)
    return start


def organization_day_end(organization, day: dt.date) -> dt.datetime:
    """The first instant after `day` in the organization's zone (an exclusive bound)."""
    return organization_day_start(organization, day + dt.timedelta(days=1))


def organization_moment(organization, value) -> dt.datetime:
    """An instant from what a person typed: a date is the start of that day in the organization's
    zone, a naive datetime is a wall-clock time there, an aware datetime is itself."""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            return value
        return value.replace(tzinfo=organization_zone(organization)).astimezone(UTC)
    if isinstance(value, dt.date):
        return organization_day_start(organization, value)
    raise TypeError(f"not a date or datetime: {value!r}")


def organization_day(organization, moment) -> dt.date:
    """The organization's calendar day of `moment` (a date is its own day; a naive datetime is a
    wall-clock time in the organization's zone)."""
    if isinstance(moment, dt.datetime):
        if timezone.is_naive(moment):
            return moment.date()
        return moment.astimezone(organization_zone(organization)).date()
    return moment
