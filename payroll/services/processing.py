"""Processing a period and paying one payslip: the entry points that route each approved payslip
to its payment (bank and cash: payroll.services.payments, marked paid with a reference; crypto:
payroll.services.crypto_payouts, on chain, exactly once).

A batch is all or nothing up to the chain: every check comes first (the references of bank and cash
payslips; for crypto ones the approved session, the company wallet, the price, and the wallet's
balances against the whole batch plus gas), then ONE transaction pays the bank and cash payslips
and fixes the crypto payslips' terms (processing, with their accruals). Only then are the crypto
payouts sent, one after the other from the one wallet (consecutive nonces). A retry of the call (or
the periodic task) sends the payslips already processing again: the same stored transactions,
never a second payment.
"""

from __future__ import annotations

from accounts.sessions import require_approved_session
from core import permissions
from core.errors import Conflict, ErrorCode, InvalidInput, Unavailable
from core.transactions import in_transaction
from payroll.models import ApprovalStatus, PaymentMethod, PaymentStatus, PayrollPeriod, PeriodStatus, Payslip
import payroll.services.crypto_payouts as crypto_payouts
from payroll.services.common import MANAGERS_ONLY
from payroll.services.payments import journal_counters_ensure, pay_by_reference


def _reference(reference: str | None) -> str:
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput(ErrorCode.PAYMENT_REFERENCE_REQUIRED,
                           "A bank or cash payment is marked paid with its reference (bank batch, receipt).",
                           {"field": "reference"})
    return reference[:200]


def _send_and_settle(payslips: list[Payslip]) -> None:
    if not payslips:
        return
    try:
        crypto_payouts.crypto_payouts_send(payslips=payslips)
    except Unavailable:
        pass  # stays processing: the periodic task sends it when the node answers
    crypto_payouts.crypto_payouts_settle(organization_id=payslips[0].organization_id)


def payroll_period_process(*, actor, period: PayrollPeriod, reference: str | None = None,
                           references: dict[str, str] | None = None, session=None, wallet_id=None) -> list[Payslip]:
    """Pay every approved, unpaid payslip of the period (managers and admins): bank and cash ones
    with `reference` (or `references` {payslip_id: reference}), crypto ones from the company wallet
    (`wallet_id`, else the organization's payout wallet) in a session approved by password. Nothing
    is paid when any payslip cannot be. Returns the payslips acted on (paid, or processing: a crypto
    payslip is paid once its transfer has its confirmations). Failed crypto payslips are left alone
    (paid again only by process-payment)."""
    permissions.require(permissions.can_manage_payroll(actor), MANAGERS_ONLY)
    permissions.require_own(actor, period)
    if period.status in (PeriodStatus.PAID, PeriodStatus.CANCELLED):
        raise Conflict(ErrorCode.PAYROLL_PERIOD_CLOSED, f"Period {period.period_id} is {period.status}.",
                       {"status": period.status})
    approved = list(Payslip.objects.for_organization(period.organization_id).filter(
        period=period, approval_status=ApprovalStatus.APPROVED,
        payment_status__in=(PaymentStatus.PENDING, PaymentStatus.PROCESSING)).order_by("payslip_id"))
    manual = [p for p in approved if p.payment_method != PaymentMethod.CRYPTO and p.payment_status == PaymentStatus.PENDING]
    crypto = [p for p in approved if p.payment_method == PaymentMethod.CRYPTO and p.payment_status == PaymentStatus.PENDING]
    in_flight = [p for p in approved if p.payment_method == PaymentMethod.CRYPTO
                 and p.payment_status == PaymentStatus.PROCESSING]
    if not approved:
        raise Conflict(ErrorCode.NO_APPROVED_PAYSLIPS, "No approved payslip of this period is waiting for payment.")
    references = references or {}
    chosen = {p.payslip_id: _reference(references.get(p.payslip_id) or reference) for p in manual}
    plan = None
    if crypto:
        plan = crypto_payouts.crypto_payouts_plan(actor=actor, session=session, period=period, payslips=crypto,
                                                  wallet_id=wallet_id)
    elif in_flight:
        require_approved_session(session)

    if manual:
        journal_counters_ensure(period.organization_id, period.pay_date)

    def work():
        if manual:
            pay_by_reference(actor=actor, period=period, payslips=manual, references=chosen)
        if plan is not None:
            crypto_payouts.crypto_payouts_commit(plan)

    if manual or plan is not None:
        in_transaction(work)
    _send_and_settle(crypto + in_flight)
    return list(Payslip.objects.filter(pk__in=[p.pk for p in approved]).order_by("payslip_id"))


def payslip_payment_process(*, actor, payslip: Payslip, reference: str | None = None, session=None,
                            wallet_id=None) -> Payslip:
    """Pay one approved payslip (managers and admins): bank or cash with its reference; crypto from
    the company wallet in an approved session, the same way as a period. A crypto payslip already
    processing is sent again (its stored transaction); a failed one is paid again here, and only
    here: a new attempt with a new intent key and the current price."""
    permissions.require(permissions.can_manage_payroll(actor), MANAGERS_ONLY)
    permissions.require_own(actor, payslip)
    payslip = Payslip.objects.get(pk=payslip.pk)  # the stored state decides, not the caller's copy
    period = PayrollPeriod.objects.get(pk=payslip.period_id)
    if period.status == PeriodStatus.CANCELLED:
        raise Conflict(ErrorCode.PAYROLL_PERIOD_CLOSED, f"Period {period.period_id} is cancelled.")
    if payslip.payment_status == PaymentStatus.PAID:
        raise Conflict(ErrorCode.PAYSLIP_ALREADY_PAID, f"Payslip {payslip.payslip_id} is already paid.",
                       {"payment_reference": payslip.payment_reference})
    if payslip.approval_status != ApprovalStatus.APPROVED:
        raise Conflict(ErrorCode.PAYSLIP_NOT_APPROVED, "A payslip is approved before it is paid.",
                       {"approval_status": payslip.approval_status})
    if payslip.payment_method != PaymentMethod.CRYPTO:
        return pay_by_reference(actor=actor, period=period, payslips=[payslip],
                                references={payslip.payslip_id: _reference(reference)})[0]
    if payslip.payment_status == PaymentStatus.PROCESSING:
        require_approved_session(session)
    else:
        plan = crypto_payouts.crypto_payouts_plan(
            actor=actor, session=session, period=period, payslips=[payslip],
            wallet_id=wallet_id or payslip.payout_wallet_id,  # a retry: the wallet of the failed attempt
            retry_failed=payslip.payment_status == PaymentStatus.FAILED)
        crypto_payouts.crypto_payouts_commit(plan)
    _send_and_settle([payslip])
    return Payslip.objects.get(pk=payslip.pk)
