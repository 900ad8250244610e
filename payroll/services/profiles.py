"""Pay profiles (how each employee is paid) and withholding tables (versions by effective date)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError

from accounts.membership import organization_members
from core import permissions
from core.errors import Conflict, ErrorCode, Forbidden, InvalidInput, NotFound
from payroll import engine
from payroll.models import PaymentMethod, PayProfile, PayType, WithholdingTable
from payroll.services.common import MANAGERS_ONLY, engine_call
from wallets.addresses import address_normalise

PROFILE_MONEY = ("basic_salary", "housing_allowance", "transport_allowance", "other_allowances", "hourly_rate",
                 "standard_hours")
PROFILE_FIELDS = PROFILE_MONEY + ("pay_type", "payment_method", "wallet_address", "payout_asset", "bank_details",
                                  "department", "position", "start_date", "end_date", "is_active")


def pay_profile_set(*, actor, employee, **fields) -> PayProfile:
    """Create or change the pay profile of a member of the actor's organization (managers and
    admins; never their own). Crypto needs a wallet address (the profile's, else the employee's)."""
    permissions.require(permissions.can_manage_payroll(actor), MANAGERS_ONLY)
    permissions.require_own(actor, employee)
    if employee.pk == actor.pk:
        raise Forbidden(ErrorCode.OWN_PAYSLIP, "Nobody sets their own pay.")
    if not organization_members(actor.organization_id).filter(pk=employee.pk).exists():
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"unknown pay profile fields: {sorted(unknown)}")
    profile = PayProfile.objects.for_organization(actor.organization_id).filter(employee=employee).first()
    profile = profile or PayProfile(organization_id=actor.organization_id, employee=employee)
    for name, value in fields.items():
        if value is None:
            continue
        if name in PROFILE_MONEY:
            value = engine_call(engine.to_money, value, name)
        setattr(profile, name, value)
    if profile.pay_type not in PayType.values:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "pay_type is salary or hourly.", {"field": "pay_type"})
    if profile.payment_method not in PaymentMethod.values:
        raise InvalidInput(ErrorCode.INVALID_METHOD, "payment_method is crypto, bank or cash.",
                           {"field": "payment_method"})
    if profile.wallet_address:
        profile.wallet_address = address_normalise(profile.wallet_address)
    if profile.payment_method == PaymentMethod.CRYPTO and not (profile.wallet_address or employee.wallet_address):
        raise InvalidInput(ErrorCode.EMPLOYEE_WALLET_MISSING,
                           "Paying in crypto needs the employee's wallet address.", {"field": "wallet_address"})
    if profile.start_date and profile.end_date and profile.end_date < profile.start_date:
        raise InvalidInput(ErrorCode.INVALID_RANGE, "The leave date is on or after the start date.")
    profile.payout_asset = (profile.payout_asset or "").strip().upper()
    profile.full_clean(exclude=["organization", "employee"])
    try:
        profile.save()
    except IntegrityError:
        raise Conflict(ErrorCode.CONFLICT, "The pay profile changed meanwhile; try again.") from None
    return profile


def _table_of(model: WithholdingTable) -> engine.WithholdingTable:
    return engine.WithholdingTable(
        effective_from=model.effective_from, name=model.name,
        brackets=tuple(engine.Bracket(None if b.get("up_to") in (None, "") else Decimal(str(b["up_to"])),
                                      Decimal(str(b["rate"]))) for b in model.brackets),
        flat_rate=None if model.flat_rate is None else Decimal(model.flat_rate),
        employee_insurance_rate=Decimal(model.employee_insurance_rate),
        employer_insurance_rate=Decimal(model.employer_insurance_rate))


def withholding_table_create(*, actor, name: str, effective_from: dt.date, brackets=None, flat_rate=None,
                             employee_insurance_rate=0, employer_insurance_rate=0, description: str = "",
                             organization_id=None) -> WithholdingTable:
    """A new version of the organization's withholding table (managers and admins), checked by the
    engine. One version per effective date."""
    organization_id = permissions.acting_organization_id(actor, permissions.can_manage_payroll, organization_id,
                                                         refused=MANAGERS_ONLY)
    rows = []
    for i, bracket in enumerate(brackets or []):
        up_to = bracket.get("up_to")
        rows.append({"up_to": None if up_to in (None, "") else str(engine_call(engine.to_money, up_to,
                                                                                 f"brackets[{i}].up_to")),
                     "rate": str(engine_call(engine.to_money, bracket.get("rate"), f"brackets[{i}].rate"))})
    model = WithholdingTable(
        organization_id=organization_id, name=(name or "").strip()[:200] or "Withholding table",
        effective_from=effective_from, brackets=rows,
        flat_rate=None if flat_rate is None else engine_call(engine.to_money, flat_rate, "flat_rate"),
        employee_insurance_rate=engine_call(engine.to_money, employee_insurance_rate, "employee_insurance_rate"),
        employer_insurance_rate=engine_call(engine.to_money, employer_insurance_rate, "employer_insurance_rate"),
        description=description or "", created_by=actor if actor is not None and actor.pk else None)
    engine_call(_table_of(model).validate)
    try:
        model.save()
    except IntegrityError:
        raise Conflict(ErrorCode.WITHHOLDING_TABLE_EXISTS,
                       f"A withholding table already takes effect on {effective_from.isoformat()}.") from None
    return model


def withholding_example_install(*, actor, organization_id=None, effective_from: dt.date | None = None):
    """Install the documented EXAMPLE table (payroll.engine.EXAMPLE_TABLE: an illustration, not any
    country's law) as a version of the organization's table."""
    example = engine.EXAMPLE_TABLE
    return withholding_table_create(
        actor=actor, organization_id=organization_id, name=example.name,
        effective_from=effective_from or example.effective_from,
        brackets=[{"up_to": None if b.up_to is None else str(b.up_to), "rate": str(b.rate)} for b in example.brackets],
        employee_insurance_rate=example.employee_insurance_rate, employer_insurance_rate=example.employer_insurance_rate,
        description="Example figures from payroll/engine/withholding.py; replace with your jurisdiction's.")


def withholding_table_in_force(organization_id, pay_date: dt.date) -> tuple[WithholdingTable, engine.WithholdingTable]:
    """The organization's version in force on the pay date (409 no_withholding_table without one)."""
    models = list(WithholdingTable.objects.for_organization(organization_id).filter(effective_from__lte=pay_date)
                  .order_by("-effective_from")[:1])
    if not models:
        engine_call(engine.table_in_force, [], pay_date)
    return models[0], _table_of(models[0])
