"""Recurring payment schedules (the spec's Recurring Payments): made, paused and resumed here, their
dates from payroll.engine.calendar, and their due occurrences paid by the periodic task
(`recurring_payments_pay`, payroll/tasks.py), each exactly once:

1. Claim: in ONE transaction, each due occurrence (index n, numbered from the start date) becomes a
   RecurringOccurrence row ((payment, n) unique) with its intent key `recurring:<payment>:<n>`, and the
   schedule's `occurrences_claimed`, `total_payments_made`, `last_payment_date` and
   `next_payment_date` move by a conditional update on `occurrences_claimed`: two workers, or a
   rerun after a crash, cannot claim an occurrence twice. After downtime every missed occurrence is
   claimed once and paid (or, with the organization's `missed_recurring = skip`, all but the latest
   are recorded SKIPPED).
2. Pay: each pending occurrence goes through wallets.transfers.payout_send with its intent key (the
   intent and signed bytes stored before broadcast; a retry sends the same bytes), from the
   schedule's wallet (else the organization's payout wallet), on the authority of the manager who
   made the schedule. Its transaction row is labelled a payment: the ledger's automatic journal books
   it (a disposal at cost, the gas). A refusal (funds, address) makes the occurrence FAILED.
3. Settle: an occurrence is PAID once its transfer is CONFIRMED, FAILED if it reverted.
Pausing stops claims; resuming claims the occurrences missed meanwhile by the same rule."""

from __future__ import annotations

import datetime as dt

import logging
from decimal import Decimal

from django.db import IntegrityError
from django.utils import timezone

from core import permissions
from core.errors import Conflict, DomainError, ErrorCode, InvalidInput, Unavailable
from core.models import Organization
from core.organizations import organization_day
from core.transactions import in_transaction
from payroll import engine
from payroll.models import MissedOccurrences, OccurrenceStatus, RecurringOccurrence, RecurringPayment
from payroll.services.common import MANAGERS_ONLY, engine_call, payroll_settings_get
from wallets import transfers
from wallets.addresses import address_normalise
from wallets.models import Transaction, TransferStatus, Wallet
from wallets.services import transaction_update

logger = logging.getLogger(__name__)


def recurring_payment_create(*, actor, payment_name: str, recipient_name: str, recipient_wallet: str, amount,
                             cryptocurrency: str, frequency: str, start_date: dt.date, end_date: dt.date | None = None,
                             description: str = "") -> RecurringPayment:
    organization_id = permissions.acting_organization_id(actor, permissions.can_manage_payroll,
                                                         refused=MANAGERS_ONLY, system_allowed=False)
    if frequency not in engine.Frequency.__members__:
        raise InvalidInput(ErrorCode.INVALID_FREQUENCY, "frequency is DAILY, WEEKLY, MONTHLY, QUARTERLY or ANNUALLY.",
                           {"field": "frequency"})
    amount = engine_call(engine.to_money, amount, "amount")
    if amount <= 0:
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, "A recurring payment's amount is positive.", {"field": "amount"})
    if end_date is not None and end_date < start_date:
        raise InvalidInput(ErrorCode.INVALID_RANGE, "The end date is on or after the start date.")
    payment = RecurringPayment(
        organization_id=organization_id, user=actor, payment_name=(payment_name or "").strip()[:200],
        recipient_name=(recipient_name or "").strip()[:200], recipient_wallet=address_normalise(recipient_wallet),
        amount=amount, cryptocurrency=(cryptocurrency or "").strip().upper()[:20], frequency=frequency,
        start_date=start_date, end_date=end_date, description=description or "",
        next_payment_date=engine_call(engine.next_occurrence, start_date, frequency, 0, end_date))
    payment.full_clean(exclude=["organization", "user"])
    payment.save()
    return payment


def recurring_payment_set_active(*, actor, payment: RecurringPayment, is_active: bool) -> RecurringPayment:
    """Pause or resume a schedule (managers and admins). Resuming keeps the occurrences numbered from
    the start date: the missed ones are then due (paid once each, or skipped, by the payout task)."""
    permissions.require(permissions.can_manage_payroll(actor), MANAGERS_ONLY)
    permissions.require_own(actor, payment)
    RecurringPayment.objects.filter(pk=payment.pk).update(is_active=bool(is_active))
    payment.refresh_from_db()
    return payment


# --- paying due occurrences (the periodic task) ---------------------------------------------------------
def _claim_due(payment: RecurringPayment, today: dt.date, skip_missed: bool) -> list[RecurringOccurrence]:
    """Claim the schedule's due occurrences once (see the module docstring)."""
    def work():
        current = RecurringPayment.objects.get(pk=payment.pk)
        if not current.is_active:
            return []
        due = engine_call(engine.occurrences_due, current.start_date, current.frequency,
                          current.occurrences_claimed, today, current.end_date, limit=1000)
        if not due:
            return []
        skipped, paid = (due[:-1], due[-1:]) if skip_missed else ([], due)
        rows = []
        for (index, day), status in [*[(d, OccurrenceStatus.SKIPPED) for d in skipped],
                                     *[(d, OccurrenceStatus.PENDING) for d in paid]]:
            rows.append(RecurringOccurrence.objects.create(
                organization_id=current.organization_id, payment=current, index=index, due_date=day,
                amount=current.amount, cryptocurrency=current.cryptocurrency,
                recipient_wallet=current.recipient_wallet, status=status,
                intent_key=f"recurring:{current.pk}:{index}"))
        last_index = due[-1][0]
        claimed = RecurringPayment.objects.filter(pk=current.pk, occurrences_claimed=current.occurrences_claimed).update(
            occurrences_claimed=last_index + 1, total_payments_made=current.total_payments_made + len(paid),
            last_payment_date=paid[-1][1] if paid else current.last_payment_date,
            next_payment_date=engine_call(engine.next_occurrence, current.start_date, current.frequency,
                                          last_index + 1, current.end_date),
            updated_at=timezone.now())
        if not claimed:
            raise Conflict(ErrorCode.CONFLICT, "Another worker claimed these occurrences.")
        return [row for row in rows if row.status == OccurrenceStatus.PENDING]

    try:
        return in_transaction(work)
    except (Conflict, IntegrityError):
        return []  # claimed by another worker meanwhile: nothing twice


def _wallet_of(payment: RecurringPayment) -> Wallet | None:
    wallet_id = payment.wallet_id or payroll_settings_get(payment.organization_id).payout_wallet_id
    return Wallet.objects.for_organization(payment.organization_id).filter(pk=wallet_id).first() if wallet_id else None


def _occurrence_fail(occurrence: RecurringOccurrence, reason: str) -> None:
    RecurringOccurrence.objects.filter(pk=occurrence.pk, status=OccurrenceStatus.PENDING).update(
        status=OccurrenceStatus.FAILED, error=reason[:2000], updated_at=timezone.now())
    logger.warning("recurring payment occurrence %s failed: %s", occurrence.intent_key, reason)


def _label(occurrence: RecurringOccurrence, transfer) -> None:
    row = Transaction.objects.filter(pk=transfer.transaction_id).first() if transfer.transaction_id else None
    if row is not None and row.tax_category != "payment":
        payment = occurrence.payment
        transaction_update(actor=payment.user, transaction=row, tax_category="payment",
                           business_purpose=f"recurring payment {payment.payment_name}"[:200],
                           description=f"{payment.payment_name} to {payment.recipient_name} "
                                       f"({occurrence.due_date.isoformat()})")


def occurrence_send(occurrence: RecurringOccurrence) -> None:
    """Send (or send again: the stored bytes) one pending occurrence's payout and link it."""
    payment = occurrence.payment
    wallet = _wallet_of(payment)
    if wallet is None:
        _occurrence_fail(occurrence, "No wallet to pay from: set the schedule's wallet or the payout wallet.")
        return

    def pay():
        return transfers.payout_send(organization_id=occurrence.organization_id, wallet=wallet,
                                     to=occurrence.recipient_wallet, amount=Decimal(occurrence.amount),
                                     asset=occurrence.cryptocurrency, intent_key=occurrence.intent_key,
                                     requested_by=payment.user)

    try:
        transfer = pay()
    except Unavailable:
        raise
    except DomainError as first:
        try:  # a refused broadcast is stored FAILED under the key: the repeat returns it
            transfer = pay()
        except Unavailable:
            raise
        except DomainError:
            _occurrence_fail(occurrence, first.message)
            return
    RecurringOccurrence.objects.filter(pk=occurrence.pk, transfer__isnull=True).update(transfer=transfer)
    if transfer.status == TransferStatus.FAILED:
        _occurrence_fail(occurrence, transfer.error or "The node refused the transaction.")
        return
    _label(occurrence, transfer)


def recurring_payments_pay(*, today: dt.date | None = None) -> dict:
    """The periodic task's pass over every organization: claim due occurrences, send the pending
    ones (also those a crash left unsent), settle the ones the chain has settled."""
    report = {"claimed": 0, "sent": 0, "paid": 0, "failed": 0}
    organizations = {}
    now = timezone.now()
    candidates = RecurringPayment.objects.filter(is_active=True, next_payment_date__isnull=False)
    if today is not None:
        candidates = candidates.filter(next_payment_date__lte=today)
    for payment in candidates.order_by("next_payment_date", "id"):
        org = organizations.get(payment.organization_id)
        if org is None:
            org = organizations[payment.organization_id] = Organization.objects.get(pk=payment.organization_id)
        day = today or organization_day(org, now)
        if payment.next_payment_date > day:
            continue
        skip = payroll_settings_get(org.pk).missed_recurring == MissedOccurrences.SKIP
        report["claimed"] += len(_claim_due(payment, day, skip))
    pending = RecurringOccurrence.objects.filter(status=OccurrenceStatus.PENDING).select_related("payment", "transfer")
    for occurrence in pending.order_by("created_at", "index"):
        if occurrence.transfer_id is None or occurrence.transfer.status == TransferStatus.PREPARED:
            try:
                occurrence_send(occurrence)
                report["sent"] += 1
            except Unavailable as exc:
                report["error"] = exc.message
                break
    settled = RecurringOccurrence.objects.filter(status=OccurrenceStatus.PENDING, transfer__isnull=False)
    for occurrence in settled.select_related("transfer"):
        if occurrence.transfer.status == TransferStatus.CONFIRMED:
            report["paid"] += RecurringOccurrence.objects.filter(
                pk=occurrence.pk, status=OccurrenceStatus.PENDING).update(status=OccurrenceStatus.PAID,
                                                                         updated_at=timezone.now())
        elif occurrence.transfer.status == TransferStatus.FAILED:
            _occurrence_fail(occurrence, occurrence.transfer.error or "The transfer reverted.")
            report["failed"] += 1
    return report
