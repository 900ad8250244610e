"""JSON API of payroll (thin: parse, call services/selectors, serialise). Mounted in config/api.py:
`periods_router` at /api/payroll/periods/, `payslips_router` at /api/payslips/.

Who may do what: payroll.selectors' docstring and core.permissions (`# --- payroll ---`). Another
organization's period or payslip, and another member's payslip asked for by an employee, are 404."""


import datetime as dt
import re
from typing import Literal

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from accounts.membership import organization_members
from accounts.selectors import user_session_get
from core.errors import ErrorCode, NotFound
from core.jsonapi.auth import BROWSER_SESSION_KEY, api_auth
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.pagination import LimitOffsetNoCount, NewestFirstWindow, Serialised
from core.jsonapi.schemas import StrictSchema
from core.jsonapi.types import OBJECT_ID_PATTERN, Amount, FiatAmount, ObjectIdStr
from payroll import selectors, services
from payroll.models import ApprovalStatus, PaymentMethod, PaymentStatus, PayrollPeriod, Payslip, PeriodStatus
from payroll.services.documents import pdf_filename

periods_router = Router(tags=["payroll"])
payslips_router = Router(tags=["payslips"])

PeriodStatusIn = Literal[tuple(PeriodStatus.values)]
ApprovalStatusIn = Literal[tuple(ApprovalStatus.values)]
PaymentStatusIn = Literal[tuple(PaymentStatus.values)]
PaymentMethodIn = Literal[tuple(PaymentMethod.values)]
OBJECT_ID = re.compile(OBJECT_ID_PATTERN)
PDF_RESPONSE = {"responses": {200: {"description": "the PDF", "content": {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}}


# --- schemas -------------------------------------------------------------------------------------------

class PeriodOut(Schema):
    id: ObjectIdStr
    period_id: str
    description: str
    start_date: dt.date
    end_date: dt.date
    pay_date: dt.date
    status: str
    currency: str
    total_amount: FiatAmount = Field(description="net pay of the period's payslips (not cancelled)")
    total_gross: FiatAmount
    total_tax: FiatAmount
    total_insurance: FiatAmount = Field(description="employee and employer insurance")
    payslip_count: int
    created_by: ObjectIdStr
    created_at: dt.datetime
    processed_at: dt.datetime | None
    paid_at: dt.datetime | None


class DeductionOut(Schema):
    type: str
    amount: str
    description: str


class PayslipOut(Schema):
    id: ObjectIdStr
    payslip_id: str
    period: ObjectIdStr
    payroll_period_id: str
    employee: ObjectIdStr
    employee_name: str
    department: str
    position: str
    currency: str
    pay_type: str
    basic_salary: FiatAmount
    allowances: dict[str, FiatAmount]
    hourly_rate: FiatAmount
    hours_worked: FiatAmount
    hourly_pay: FiatAmount
    overtime_hours: FiatAmount
    overtime_rate: FiatAmount
    overtime_amount: FiatAmount
    bonus_amount: FiatAmount
    gross_salary: FiatAmount
    deductions: dict[str, FiatAmount]
    other_deductions: list[DeductionOut]
    total_deductions: FiatAmount
    net_salary: FiatAmount
    employer_insurance: FiatAmount
    days_paid: int
    days_in_period: int
    approval_status: str
    approved_by: ObjectIdStr | None
    approved_at: dt.datetime | None
    payment_method: str
    wallet_address: str
    bank_details: dict
    payment_status: str
    payment_date: dt.datetime | None
    payment_reference: str
    payment_transaction_hash: str
    payout_intent_key: str
    payout_wallet: ObjectIdStr | None
    payout_asset: str
    payout_amount: Amount | None = Field(description="crypto: the quantity sent, in the asset's decimals")
    payout_rate: FiatAmount | None = Field(description="crypto: fiat per unit of the asset at processing")
    payout_rate_source: str
    payout_transfer: ObjectIdStr | None
    payout_status: str | None = Field(description="crypto: the transfer's status (PREPARED, BROADCAST, STUCK, "
                                                  "CONFIRMED, FAILED)")
    payout_nonce: int | None
    payout_error: str
    gas_fee: Amount | None = Field(description="ETH the transfer actually paid for gas (known at confirmation)")
    gas_fee_bearer: str = Field(description="crypto: who bears the gas, fixed with the terms: company | employee")
    payout_net_amount: Amount | None = Field(description="crypto: the net pay in the asset; payout_amount + "
                                                         "gas_fee_charged = payout_net_amount")
    gas_fee_charged: Amount | None = Field(description="crypto, gas borne by the employee: the network fee "
                                                       "deducted from the payout, in the asset (fixed before "
                                                       "signing: gas limit x max fee per gas)")
    gas_fee_charged_fiat: FiatAmount | None = Field(description="that fee at the processing rate")
    gas_charge_limit: int | None
    gas_charge_max_fee_per_gas: int | None = Field(description="wei")
    gas_charge_eth_rate: FiatAmount | None = Field(description="token payouts: fiat per ETH used for the fee")
    emailed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class PeriodDetailOut(PeriodOut):
    payslips: list[PayslipOut]


class PeriodIn(StrictSchema):
    period_id: str = Field(min_length=1, max_length=64, description='unique in the organization, e.g. "2026-01"')
    start_date: dt.date
    end_date: dt.date
    pay_date: dt.date
    description: str = Field("", max_length=200)


class PeriodUpdateIn(StrictSchema):
    description: str | None = Field(None, max_length=200)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    pay_date: dt.date | None = None
    status: Literal["cancelled"] | None = Field(None, description="cancel the period (nothing of it paid)")


class ProcessIn(StrictSchema):
    reference: str | None = Field(None, max_length=200, description="the bank batch or cash receipt, for every payslip")
    references: dict[str, str] | None = Field(None, description="{payslip_id: reference}, per payslip")
    wallet_id: ObjectIdStr | None = Field(None, description="crypto payslips: the company wallet to pay from "
                                                            "(default: the organization's payout wallet)")


class ProcessOut(Schema):
    period: PeriodOut
    paid: list[PayslipOut]
    processing: list[PayslipOut] = Field(description="crypto payslips whose transfer is on its way (paid once it "
                                                     "has its confirmations)")
    failed: list[PayslipOut] = Field(description="crypto payslips whose payout was refused (paid again only by "
                                                 "process-payment)")


class DeductionIn(StrictSchema):
    type: str = Field("other", max_length=50)
    amount: str = Field(max_length=40)
    description: str = Field("", max_length=200)


class PayslipChangesIn(StrictSchema):
    base_salary: str | None = Field(None, max_length=40, description="full-period salary before pro-rating")
    base_housing: str | None = Field(None, max_length=40)
    base_transport: str | None = Field(None, max_length=40)
    base_other_allowances: str | None = Field(None, max_length=40)
    hourly_rate: str | None = Field(None, max_length=40)
    hours_worked: str | None = Field(None, max_length=40)
    overtime_hours: str | None = Field(None, max_length=40)
    overtime_rate_override: str | None = Field(None, max_length=40, description="default: overtime multiple x hourly rate")
    bonus_amount: str | None = Field(None, max_length=40)
    other_deductions: list[DeductionIn] | None = None
    payment_method: PaymentMethodIn | None = None
    wallet_address: str | None = Field(None, max_length=42)
    bank_details: dict | None = None
    department: str | None = Field(None, max_length=200)
    position: str | None = Field(None, max_length=200)


class PayslipCreateIn(PayslipChangesIn):
    period_id: str = Field(min_length=1, max_length=64, description="the period's period_id (or its id)")
    employee: str = Field(min_length=1, max_length=150, description="the employee's id or username")


class PaymentIn(StrictSchema):
    reference: str | None = Field(None, max_length=200,
                                  description="bank or cash: the transfer or receipt reference (required)")
    wallet_id: ObjectIdStr | None = Field(None, description="crypto: the company wallet to pay from (default: the "
                                                            "organization's payout wallet)")


class SendOut(Schema):
    payslip: PayslipOut
    emailed: bool = Field(description="an email went out now (false: it had been sent before)")


# --- serialisation -------------------------------------------------------------------------------------

RELATIONS = ("period", "employee", "approved_by", "payout_wallet", "payout_transfer")


def _payslip_out(payslip) -> dict:
    out = {name: getattr(payslip, name) for name in PayslipOut.model_fields
           if name not in RELATIONS and hasattr(payslip, name)}
    transfer = payslip.payout_transfer if payslip.payout_transfer_id else None
    out.update(
        payout_wallet=payslip.payout_wallet_id, payout_transfer=payslip.payout_transfer_id,
        payout_status=transfer.status if transfer else None, payout_nonce=transfer.nonce if transfer else None,
        period=payslip.period_id, employee=payslip.employee_id, approved_by=payslip.approved_by_id,
        payroll_period_id=payslip.period.period_id,
        allowances={"housing": payslip.housing_allowance, "transport": payslip.transport_allowance,
                    "others": payslip.other_allowances},
        deductions={"tax": payslip.tax, "insurance": payslip.insurance, "others": payslip.other_deductions_total})
    return out


def _period_out(period, payslips=None) -> dict:
    out = {name: getattr(period, name) for name in PeriodOut.model_fields if name != "created_by"}
    out["created_by"] = period.created_by_id
    if payslips is not None:
        out["payslips"] = [_payslip_out(p) for p in payslips]
    return out


def current_session(request):
    """The login session of the request (API token or browser), for the confirm-password rule."""
    session = getattr(request, "user_session", None)
    if session is None and hasattr(request, "session"):
        session_id = request.session.get(BROWSER_SESSION_KEY)
        session = user_session_get(session_id=session_id) if session_id else None
    return session


def _period(request, period_id) -> PayrollPeriod:
    return get_object_or_404(selectors.period_list_for(request.user), period_id)


def _period_detail(period) -> dict:
    period.refresh_from_db()
    return _period_out(period, selectors.period_payslips(period).select_related("period"))


def _payslip(request, payslip_id):
    return get_object_or_404(selectors.payslip_list_for(request.user), payslip_id)


# --- /api/payroll/periods/ -----------------------------------------------------------------------------

@periods_router.get("/", response=list[PeriodOut], auth=api_auth,
                    summary="List payroll periods (accountants, managers, admins)")
@paginate(LimitOffsetNoCount)
def period_list(request, status: PeriodStatusIn | None = None):
    return Serialised(selectors.period_list_for(request.user, status=status), _period_out)


@periods_router.post("/", response={201: PeriodDetailOut}, auth=api_auth,
                     summary="Create a payroll period: drafts a payslip for every active verified employee with a "
                             "pay profile (managers, admins)")
def period_create(request, payload: PeriodIn):
    period = services.payroll_period_create(actor=request.user, **payload.dict())
    return Status(201, _period_detail(period))


@periods_router.get("/{oid:period_id}/", response=PeriodDetailOut, auth=api_auth,
                    summary="Get a payroll period with its payslips")
def period_detail(request, period_id: str):
    return _period_detail(_period(request, period_id))


@periods_router.put("/{oid:period_id}/", response=PeriodDetailOut, auth=api_auth,
                    summary="Update a draft period (description, dates: payslips recomputed) or cancel it")
def period_update(request, period_id: str, payload: PeriodUpdateIn):
    period = services.payroll_period_update(actor=request.user, period=_period(request, period_id),
                                            **payload.dict(exclude_unset=True))
    return _period_detail(period)


@periods_router.delete("/{oid:period_id}/", response={204: None}, auth=api_auth,
                       summary="Delete a draft period and its payslips")
def period_delete(request, period_id: str):
    services.payroll_period_delete(actor=request.user, period=_period(request, period_id))
    return Status(204, None)


@periods_router.post("/{oid:period_id}/process/", response=ProcessOut, auth=api_auth,
                     summary="Pay every approved payslip of the period: bank and cash with a reference, crypto "
                             "on chain exactly once from a company wallet (needs a session approved by "
                             "confirm-password); nothing is paid when any payslip cannot be")
def period_process(request, period_id: str, payload: ProcessIn | None = None):
    period = _period(request, period_id)
    payload = payload or ProcessIn()
    acted = services.payroll_period_process(actor=request.user, period=period, reference=payload.reference,
                                            references=payload.references, session=current_session(request),
                                            wallet_id=payload.wallet_id)
    period.refresh_from_db()
    acted = list(selectors.payslip_list_for(request.user).filter(pk__in=[p.pk for p in acted]).order_by("payslip_id"))
    by_status = {status: [_payslip_out(p) for p in acted if p.payment_status == status] for status in PaymentStatus.values}
    return {"period": _period_out(period), "paid": by_status[PaymentStatus.PAID],
            "processing": by_status[PaymentStatus.PROCESSING], "failed": by_status[PaymentStatus.FAILED]}


# --- /api/payslips/ ------------------------------------------------------------------------------------

@payslips_router.get("/", response=list[PayslipOut], auth=api_auth,
                     summary="List payslips: every payslip of the organization for accountants, managers, admins; "
                             "one's own for everyone else")
@paginate(NewestFirstWindow, date_field="created_at", scope=Payslip.time_index_scope)
def payslip_list(request, period: ObjectIdStr | None = None, employee: ObjectIdStr | None = None,
                 approval_status: ApprovalStatusIn | None = None, payment_status: PaymentStatusIn | None = None):
    return Serialised(selectors.payslip_list_for(request.user, period_id=period, employee_id=employee,
                                           approval_status=approval_status, payment_status=payment_status),
                _payslip_out)


@payslips_router.post("/", response={201: PayslipOut}, auth=api_auth,
                      summary="Draft a payslip for one employee in a draft period (managers, admins)")
def payslip_create(request, payload: PayslipCreateIn):
    data = payload.dict(exclude_unset=True)
    periods = selectors.period_list_for(request.user)
    key = data.pop("period_id")
    period = (periods.filter(pk=key).first() if OBJECT_ID.match(key) else None) or \
        periods.filter(period_id=key).first()
    if period is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such period.")
    who = data.pop("employee")
    members = organization_members(request.user.organization_id)
    employee = (members.filter(pk=who).first() if OBJECT_ID.match(who) else None) or \
        members.filter(username=who).first()
    if employee is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such employee.")
    payslip = services.payslip_create(actor=request.user, period=period, employee=employee, **data)
    return Status(201, _payslip_out(payslip))


@payslips_router.get("/employee/{oid:employee_id}/", response=list[PayslipOut], auth=api_auth,
                     summary="An employee's payslips (one's own; anyone's for accountants, managers, admins)")
@paginate(NewestFirstWindow, date_field="created_at", scope=Payslip.time_index_scope)
def payslips_of_employee(request, employee_id: str):
    return Serialised(selectors.payslips_of_employee_for(request.user, employee_id), _payslip_out)


@payslips_router.get("/{oid:payslip_id}/", response=PayslipOut, auth=api_auth, summary="Get a payslip")
def payslip_detail(request, payslip_id: str):
    return _payslip_out(_payslip(request, payslip_id))


@payslips_router.put("/{oid:payslip_id}/", response=PayslipOut, auth=api_auth,
                     summary="Change a draft payslip (managers, admins; never one's own); figures recomputed")
def payslip_update(request, payslip_id: str, payload: PayslipChangesIn):
    changes = payload.dict(exclude_unset=True)
    if "other_deductions" in changes and changes["other_deductions"] is not None:
        changes["other_deductions"] = [dict(d) for d in changes["other_deductions"]]
    payslip = services.payslip_update(actor=request.user, payslip=_payslip(request, payslip_id), **changes)
    return _payslip_out(payslip)


@payslips_router.post("/{oid:payslip_id}/approve/", response=PayslipOut, auth=api_auth,
                      summary="Approve a draft payslip (managers, admins; never one's own)")
def payslip_approve(request, payslip_id: str):
    return _payslip_out(services.payslip_approve(actor=request.user, payslip=_payslip(request, payslip_id)))


@payslips_router.post("/{oid:payslip_id}/process-payment/", response=PayslipOut, auth=api_auth,
                      summary="Pay one approved payslip: bank or cash with its reference; crypto on chain "
                              "exactly once (approved session; a failed payout is retried only here)")
def payslip_process_payment(request, payslip_id: str, payload: PaymentIn):
    payslip = services.payslip_payment_process(actor=request.user, payslip=_payslip(request, payslip_id),
                                               reference=payload.reference, session=current_session(request),
                                               wallet_id=payload.wallet_id)
    return _payslip_out(_payslip(request, str(payslip.pk)))


@payslips_router.post("/{oid:payslip_id}/send/", response=SendOut, auth=api_auth,
                      summary="Email the payslip PDF to the employee (approved payslips; managers, admins); "
                              "idempotent")
def payslip_send(request, payslip_id: str):
    payslip, emailed = services.payslip_send(actor=request.user, payslip=_payslip(request, payslip_id))
    return {"payslip": _payslip_out(payslip), "emailed": emailed}


def _pdf_response(request, payslip_id: str, disposition: str) -> HttpResponse:
    payslip = _payslip(request, payslip_id)
    response = HttpResponse(services.payslip_pdf(payslip), content_type="application/pdf")
    response["Content-Disposition"] = f'{disposition}; filename="{pdf_filename(payslip)}"'
    return response


@payslips_router.get("/{oid:payslip_id}/pdf/", auth=api_auth, summary="The payslip PDF (A4, shown inline)",
                     openapi_extra=PDF_RESPONSE)
def payslip_pdf(request, payslip_id: str):
    return _pdf_response(request, payslip_id, "inline")


@payslips_router.get("/{oid:payslip_id}/download/", auth=api_auth, summary="Download the payslip PDF (attachment)",
                     openapi_extra=PDF_RESPONSE)
def payslip_download(request, payslip_id: str):
    return _pdf_response(request, payslip_id, "attachment")
