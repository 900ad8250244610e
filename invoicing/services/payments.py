"""Payments of invoices: recorded by hand (bank, cash) or matched from the chain.

Settlement by the chain monitor (`invoices_settle_transfers`, a periodic task): the wallet monitor
records every confirmed incoming transfer of a monitored wallet as a Transaction (source "chain",
direction "in"). For every open invoice with crypto terms, the transfers into its wallet in its asset,
recorded after it was issued (and quoted) and paid while its quote held, not yet applied, are
matched one by one (oldest first); a transfer paid after the quote expired is not matched (see
`quote_covers`; the invoice is re-quoted at the current rate, invoicing.services.lifecycle.requote):

  1. exact match first: the open invoice of that wallet and asset whose crypto amount still due equals
     the transfer's amount (unique for fresh invoices: see invoicing.services.crypto, amounts of open
     invoices on one address are made distinct by 1e-8 "dust" when issued);
  2. otherwise the oldest open invoice of that wallet and asset (lowest number) takes it: less than due
     leaves the rest open (PARTIALLY_PAID, or still OVERDUE), more than due pays it and the excess is
     recorded as `overpaid_amount` (booked as owed back to the client).
Each transfer is applied exactly once, however often the task runs or crashes: the payment record's
`external_id` is the transaction's (unique in the organization), and the payment, the invoice's new
amounts and status and the journal entry are written in one transaction (a kill -9 in the middle
leaves nothing; the next run does it again, once).

Unapplied payments: a transfer that no open quote covers, or that is exactly the crypto an open
invoice asked at a quote that had expired when it was mined while it is no exact match of a quote
that holds, is recorded against an invoice as an `UnappliedPayment` (`unapplied_target`): an open invoice of that wallet and asset, issued before the
transfer was recorded, whose quote had expired when it was mined (QUOTE_EXPIRED); else a paid or
cancelled invoice (closed within UNAPPLIED_LOOKBACK) whose quoted amount it is exactly (a second
payment: INVOICE_PAID / INVOICE_CANCELLED). Once per transfer (its external id is unique among
unapplied payments, and settlement skips recorded ones), with an INVOICE notification to each person
who may record invoice payments, in the same transaction (pushed live after the commit). Staff then
apply it (`unapplied_payment_apply`: the normal payment path above, at the market rate of the day it
was mined) or dismiss it with a reason (`unapplied_payment_dismiss`). A transfer that fits no invoice
stays a plain wallet transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from django.db import DatabaseError, IntegrityError
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from pymongo.errors import PyMongoError

from accounts.models import NotificationPriority, NotificationType, User
from accounts.notifications import notification_create
from core import permissions
from core.errors import Conflict, ErrorCode, InvalidInput, NotFound
from core.models import Organization
from core.money import EXACT, ZERO, format_fiat, plain
from core.transactions import after_commit as run_after_commit, in_transaction, is_transient
import invoicing.events as events
from invoicing.models import (
    Invoice,
    InvoiceKind,
    InvoicePayment,
    InvoiceStatus,
    OPEN_STATUSES,
    PaymentMethod,
    UnappliedPayment,
    UnappliedReason,
    UnappliedStatus,
)
import invoicing.services.books as books
from invoicing.services.lifecycle import ISSUE_REFUSED, invoice_event
from invoicing.totals import cents
from wallets import prices
from wallets.models import Cryptocurrency, Transaction, TransactionSource, TransactionStatus, TransferDirection

logger = logging.getLogger(__name__)
S = InvoiceStatus
# A paid or cancelled invoice still takes a second payment of its exact amount as unapplied this long.
UNAPPLIED_LOOKBACK = dt.timedelta(days=30)


def _day_of(organization_id, moment: dt.datetime) -> dt.date:
    zone = Organization.objects.filter(pk=organization_id).values_list("time_zone", flat=True).first() or "UTC"
    try:
        return moment.astimezone(zoneinfo.ZoneInfo(zone)).date()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return moment.date()


def crypto_due(invoice: Invoice) -> Decimal | None:
    """The crypto still asked: the quoted amount scaled by what is still due (credits, partial payments)."""
    return invoice.crypto_due


def quote_covers(invoice: Invoice, transfer) -> bool:
    """Whether the invoice's current quote was valid when the transfer was paid: recorded after the
    invoice was issued and quoted, and paid on chain before the quote expired. A transfer paid after
    expiry is never matched at the old rate (it stays unapplied on the wallet); the invoice is
    re-quoted (invoicing.services.lifecycle.requote) and later transfers match the new quote."""
    since = max(d for d in (invoice.issued_at, invoice.crypto_rate_at) if d is not None)
    if transfer.created_at < since:
        return False
    return invoice.crypto_valid_until is None or transfer.transaction_date < invoice.crypto_valid_until


def choose_invoice(amount: Decimal, invoices: list[Invoice]) -> Invoice | None:
    """The matching rule (module docstring): exact crypto due first, else the oldest open invoice."""
    ordered = sorted(invoices, key=lambda i: (i.issued_at, i.invoice_number or ""))
    for invoice in ordered:
        if crypto_due(invoice) == amount:
            return invoice
    return ordered[0] if ordered else None


def _notify_paid(invoice: Invoice) -> None:
    notification_create(user=invoice.user, type=NotificationType.INVOICE, priority=NotificationPriority.MEDIUM,
                        title=f"Invoice {invoice.invoice_number} is paid",
                        message=f"{invoice.client_name} paid {format_fiat(invoice.amount_paid, invoice.currency)}"
                                + (f" (overpaid by {format_fiat(invoice.overpaid_amount, invoice.currency)})"
                                   if invoice.overpaid_amount > 0 else "") + ".",
                        metadata={"invoice_id": str(invoice.pk)})


def _apply(*, organization_id, invoice_id, method: str, external_id: str, received_at: dt.datetime,
           amount: Decimal, fair_price: Decimal | None = None, asset: str = "", transaction=None, tx_hash: str = "",
           reference: str = "", recorded_by=None, rate: Decimal | None = None,
           within: Callable[[InvoicePayment], None] | None = None) -> InvoicePayment | None:
    """Apply one payment to one invoice, in one transaction. `amount`: crypto units (CRYPTO) or the
    fiat paid (BANK/CASH). `rate` (CRYPTO): the fiat per unit the coins settle the invoice at; None:
    the invoice's quote. `within(payment)` runs in the same transaction (an unapplied payment marks
    itself applied there; raising rolls everything back). Returns None when that external id was
    applied already."""
    day = _day_of(organization_id, received_at)
    books.prepare(organization_id, day, asset=asset)

    def work():
        invoice = Invoice.objects.for_organization(organization_id).select_related("user").get(pk=invoice_id)
        if invoice.status not in OPEN_STATUSES or invoice.kind != InvoiceKind.INVOICE:
            raise Conflict(ErrorCode.INVOICE_NOT_OPEN, f"The invoice is {invoice.status}: nothing to pay.",
                           {"status": invoice.status})
        due = invoice.amount_due
        with localcontext(EXACT):
            if method == PaymentMethod.CRYPTO:
                value = (amount * rate if rate is not None
                         else amount * invoice.total_amount / invoice.crypto_amount)  # at the quoted rate
                fair = cents(amount * fair_price, invoice.currency)
                if cents(value, invoice.currency) >= due:
                    settled = due
                    over = cents(fair * (value - due) / value, invoice.currency) if value > due else ZERO
                else:
                    settled, over = cents(value, invoice.currency), ZERO
            else:
                settled, over, fair = min(amount, due), max(amount - due, ZERO), amount
        payment = InvoicePayment.objects.create(
            organization_id=organization_id, invoice=invoice, method=method, external_id=external_id,
            transaction=transaction, tx_hash=tx_hash, asset=asset,
            crypto_amount=amount if method == PaymentMethod.CRYPTO else None, fiat_amount=settled,
            fair_value=fair, overpaid_amount=over, fx_difference=(fair - settled - over) if method == PaymentMethod.CRYPTO
            else ZERO, received_at=received_at, reference=reference[:200], recorded_by=recorded_by)
        invoice.amount_paid += settled
        invoice.overpaid_amount += over
        if method == PaymentMethod.CRYPTO:
            invoice.crypto_received += amount
        paid = invoice.amount_due <= 0
        status = S.PAID if paid else (S.OVERDUE if invoice.status == S.OVERDUE else S.PARTIALLY_PAID)
        now = timezone.now()
        Invoice.objects.for_organization(organization_id).filter(pk=invoice.pk).update(
            amount_paid=invoice.amount_paid, overpaid_amount=invoice.overpaid_amount,
            crypto_received=invoice.crypto_received, status=status, updated_at=now,
            **({"paid_at": now, "payment_slot": None} if paid else {}))
        invoice.status = status
        entry = books.post_payment(invoice, payment, day=day,
                                   cash_account_key=None if method == PaymentMethod.CRYPTO else
                                   ("cash" if method == PaymentMethod.CASH else "bank"))
        if entry is not None:
            InvoicePayment.objects.filter(pk=payment.pk).update(journal_entry=entry)
            payment.journal_entry = entry
        invoice_event(invoice, "invoice.paid" if paid else "invoice.payment")
        if paid:
            # In the transaction: the "paid" notice is written exactly once with the payment (a worker
            # killed after the commit loses at most the live push of it).
            _notify_paid(invoice)
        if within is not None:
            within(payment)
        return payment

    try:
        return in_transaction(work)
    except IntegrityError:
        if InvoicePayment.objects.for_organization(organization_id).filter(external_id=external_id).exists():
            return None  # applied by an earlier or concurrent run
        raise


def payment_record_manual(*, actor, invoice: Invoice, amount, method: str = PaymentMethod.BANK,
                          received_at: dt.datetime | None = None, reference: str = "") -> InvoicePayment:
    """A bank or cash payment recorded by a manager: Dr bank/cash, Cr receivables (excess: payables)."""
    permissions.acting_organization_id(actor, permissions.can_issue_invoices, invoice.organization_id,
                                       refused=ISSUE_REFUSED, system_allowed=False)
    if method not in (PaymentMethod.BANK, PaymentMethod.CASH):
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "A manual payment is BANK or CASH.", {"method": method})
    amount = cents(Decimal(str(amount)), invoice.currency)
    if amount is None or amount <= 0:
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, "A payment amount must be more than zero.")
    return _apply(organization_id=invoice.organization_id, invoice_id=invoice.pk, method=method,
                  external_id=f"manual:{uuid.uuid4().hex}", received_at=received_at or timezone.now(), amount=amount,
                  reference=reference, recorded_by=actor)


def _fair_price(invoice: Invoice, symbol: str, moment: dt.datetime) -> Decimal:
    """The asset's price at receipt (the day's, else the newest), else the invoice's quoted rate."""
    price = market_price(invoice, symbol, moment)
    return invoice.crypto_rate if price is None else price


def market_price(invoice: Invoice, symbol: str, moment: dt.datetime) -> Decimal | None:
    """The asset's price in the invoice's currency at `moment`: the day's (the organization's
    calendar), else the newest known; None when there is none (or the price API is down)."""
    day = _day_of(invoice.organization_id, moment)
    for lookup in (lambda: prices.price_on(symbol=symbol, day=day, fiat=invoice.currency,
                                            organization=invoice.organization_id),
                   lambda: prices.price_current(symbol=symbol, fiat=invoice.currency,
                                                organization=invoice.organization_id)):
        try:
            return lookup()
        except NotFound:
            continue
        except Exception:  # the price API down: fall back (logged), never block settlement
            logger.warning("price lookup failed for %s on %s", symbol, day, exc_info=True)
    return None


@dataclass
class SettlementReport:
    applied: int = 0
    skipped: int = 0
    unapplied: int = 0  # transfers recorded as unapplied payments of an invoice this run
    payments: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"applied": self.applied, "skipped": self.skipped, "unapplied": self.unapplied,
                "payments": self.payments}


def _settleable(organization_id=None, wallet_id=None, symbol: str | None = None):
    """Invoices a transfer may be matched or attributed to: open crypto invoices, and those paid or
    cancelled within UNAPPLIED_LOOKBACK (a late or duplicate payment of them is recorded unapplied)."""
    cutoff = timezone.now() - UNAPPLIED_LOOKBACK
    rows = (Invoice.objects.filter(organization_id=organization_id) if organization_id is not None
            else Invoice.objects.all())
    rows = rows.filter(kind=InvoiceKind.INVOICE, payment_wallet__isnull=False, crypto_amount__isnull=False).filter(
        Q(status__in=OPEN_STATUSES) | Q(status=S.PAID, paid_at__gte=cutoff) | Q(status=S.CANCELLED, cancelled_at__gte=cutoff))
    if wallet_id is not None:
        rows = rows.filter(payment_wallet_id=wallet_id, crypto_currency=symbol)
    return rows


def unapplied_target(transfer, invoices: list[Invoice]) -> tuple[Invoice, str] | None:
    """The invoice a transfer that no open quote covers is recorded against as an unapplied payment,
    and why (module docstring), or None: a transfer recorded before any of them was issued is not
    theirs.
      1. an open invoice whose quote had expired when the transfer was mined (QUOTE_EXPIRED), chosen
         like a payment (exact crypto due first, else the oldest);
      2. else a paid or cancelled invoice whose quoted crypto amount the transfer is exactly (a
         second payment of it: INVOICE_PAID / INVOICE_CANCELLED), the newest of them."""
    issued_before = [i for i in invoices if i.issued_at is not None and transfer.created_at >= i.issued_at]
    late = [i for i in issued_before if i.status in OPEN_STATUSES and not quote_covers(i, transfer)]
    if late:
        return choose_invoice(transfer.amount, late), UnappliedReason.QUOTE_EXPIRED
    closed = sorted((i for i in issued_before if i.status in (S.PAID, S.CANCELLED) and i.crypto_amount == transfer.amount),
                    key=lambda i: (i.issued_at, i.invoice_number or ""), reverse=True)
    if closed:
        reason = UnappliedReason.INVOICE_PAID if closed[0].status == S.PAID else UnappliedReason.INVOICE_CANCELLED
        return closed[0], reason
    return None


def _expired_exact(transfer, invoices: list[Invoice]) -> bool:
    """Whether the transfer is exactly what an open invoice still asks at a quote that had expired
    when it was mined: it is that invoice's late payment, not an odd amount for the oldest one."""
    return any(i.status in OPEN_STATUSES and i.issued_at is not None and transfer.created_at >= i.issued_at
               and not quote_covers(i, transfer) and crypto_due(i) == transfer.amount for i in invoices)


def _invoice_staff(organization_id) -> list[User]:
    """Who decides about an unapplied payment: those who may record invoice payments."""
    return [user for user in User.objects.filter(organization_id=organization_id, is_active=True)
            if permissions.can_issue_invoices(user)]


def _unapplied_record(*, invoice: Invoice, transfer, reason: str) -> UnappliedPayment | None:
    """Record the transfer against the invoice and tell its staff, in one transaction (exactly once:
    the transaction's external id is unique among unapplied payments). None: recorded before."""
    organization_id = invoice.organization_id
    staff = _invoice_staff(organization_id)
    page = reverse("invoice-detail", args=[invoice.pk])

    def work():
        row = UnappliedPayment.objects.create(
            organization_id=organization_id, invoice=invoice, transaction=transfer, external_id=transfer.external_id,
            tx_hash=transfer.hash or "", asset=invoice.crypto_currency, amount=transfer.amount,
            mined_at=transfer.transaction_date, seen_at=timezone.now(), reason=reason)
        for user in staff:
            notification_create(
                user=user, type=NotificationType.INVOICE, priority=NotificationPriority.HIGH,
                title=f"Unapplied payment on invoice {invoice.invoice_number}",
                message=f"{plain(transfer.amount)} {invoice.crypto_currency} came in (tx {transfer.hash}) but was not "
                        f"applied: {UnappliedReason(reason).label.lower()}. Apply it or dismiss it.",
                action_url=page, action_text="Open invoice",
                metadata={"invoice_id": str(invoice.pk), "unapplied_payment_id": str(row.pk)})
        invoice_event(invoice, "invoice.unapplied_payment")
        return row

    try:
        return in_transaction(work)
    except IntegrityError:
        if UnappliedPayment.objects.for_organization(organization_id).filter(external_id=transfer.external_id).exists():
            return None  # recorded by an earlier or concurrent run
        raise


def _handled(organization_id, external_ids: list[str]) -> set[str]:
    """Of these transfers, those applied as payments or recorded as unapplied (decided or not)."""
    applied = InvoicePayment.objects.for_organization(organization_id).filter(
        external_id__in=external_ids).values_list("external_id", flat=True)
    unapplied = UnappliedPayment.objects.for_organization(organization_id).filter(
        external_id__in=external_ids).values_list("external_id", flat=True)
    return set(applied) | set(unapplied)


def invoices_settle_transfers() -> SettlementReport:
    """Match confirmed incoming chain transfers to open invoices, and record those that match no open
    quote as unapplied payments of their invoice (module docstring). System work over every
    organization, each transfer in its own organization."""
    report = SettlementReport()
    groups: dict[tuple, list[Invoice]] = {}
    for invoice in _settleable():
        groups.setdefault((invoice.organization_id, invoice.payment_wallet_id, invoice.crypto_currency), []).append(invoice)
    assets = {a.symbol: a for a in Cryptocurrency.objects.filter(symbol__in=sorted({k[2] for k in groups}))}
    for (organization_id, wallet_id, symbol), invoices in groups.items():
        asset = assets.get(symbol)
        if asset is None:
            continue
        since = min(i.issued_at for i in invoices)
        transfers = list(Transaction.objects.for_organization(organization_id).filter(
            wallet_id=wallet_id, cryptocurrency_id=asset.pk, source=TransactionSource.CHAIN,
            direction=TransferDirection.IN, status=TransactionStatus.CONFIRMED, created_at__gte=since,
            external_id__isnull=False).order_by("transaction_date", "external_id"))
        if not transfers:
            continue
        done = _handled(organization_id, [t.external_id for t in transfers])
        for transfer in transfers:
            if transfer.external_id in done or transfer.amount <= 0:
                continue
            current = list(_settleable(organization_id, wallet_id, symbol))
            candidates = [i for i in current if i.status in OPEN_STATUSES and quote_covers(i, transfer)]
            invoice = choose_invoice(transfer.amount, candidates)
            if invoice is not None and crypto_due(invoice) != transfer.amount and _expired_exact(transfer, current):
                invoice = None  # it is exactly what an invoice asked before its quote expired: that one's
            try:
                if invoice is None:
                    target = unapplied_target(transfer, current)
                    if target is None:
                        report.skipped += 1
                        continue
                    invoice = target[0]
                    row = _unapplied_record(invoice=target[0], transfer=transfer, reason=target[1])
                    if row is None:
                        report.skipped += 1
                    else:
                        report.unapplied += 1
                    continue
                payment = _apply(organization_id=organization_id, invoice_id=invoice.pk, method=PaymentMethod.CRYPTO,
                                 external_id=transfer.external_id, received_at=transfer.transaction_date,
                                 amount=transfer.amount, fair_price=_fair_price(invoice, symbol, transfer.transaction_date),
                                 asset=symbol, transaction=transfer, tx_hash=transfer.hash,
                                 reference=f"{transfer.hash}")
            except Conflict:
                report.skipped += 1  # the invoice closed meanwhile; the next run matches the transfer again
                continue
            except (DatabaseError, PyMongoError) as exc:
                if not (is_transient(exc) or isinstance(exc, IntegrityError)):
                    raise
                # Its documents (or its payment's unique key) are taken, e.g. by the open transaction
                # of a worker killed mid-way, which the server ends after its lifetime (60 s): the
                # next run settles it; the other transfers go on now.
                logger.warning("invoice %s: settling %s deferred: %s", invoice.pk, transfer.external_id, exc)
                report.skipped += 1
                continue
            if payment is None:
                report.skipped += 1
                continue
            report.applied += 1
            report.payments.append(str(payment.pk))
    return report


# --- unapplied payments: staff decide ---------------------------------------------------------------------

def _unapplied_open(unapplied: UnappliedPayment) -> None:
    if unapplied.status != UnappliedStatus.OPEN:
        raise Conflict(ErrorCode.UNAPPLIED_PAYMENT_NOT_OPEN,
                       f"That payment was {unapplied.status.lower()} already.", {"status": str(unapplied.status)})


def unapplied_payment_apply(*, actor, unapplied: UnappliedPayment) -> InvoicePayment:
    """Apply an unapplied payment to its invoice as a normal crypto payment (`_apply`: the payment,
    the journal entry, PAID or PARTIALLY_PAID, the "paid" notice), converted at the market rate of
    the day it was mined (`market_price`, the same price its fair value is booked at, so no exchange
    difference arises from the expired quote). The invoice must be open (409 invoice_not_open: a paid
    or cancelled invoice's extra payment is dismissed and refunded outside); no price of that day or
    later is 409 no_price (enter one, then apply). Exactly once: the record turns APPLIED in the
    payment's transaction, on condition it is still OPEN."""
    permissions.acting_organization_id(actor, permissions.can_issue_invoices, unapplied.organization_id,
                                       refused=ISSUE_REFUSED, system_allowed=False)
    _unapplied_open(unapplied)
    invoice = Invoice.objects.for_organization(unapplied.organization_id).get(pk=unapplied.invoice_id)
    if invoice.status not in OPEN_STATUSES or invoice.kind != InvoiceKind.INVOICE:
        raise Conflict(ErrorCode.INVOICE_NOT_OPEN, f"The invoice is {invoice.status}: nothing to apply it to; "
                       "dismiss it and refund the payer.", {"status": str(invoice.status)})
    rate = market_price(invoice, unapplied.asset, unapplied.mined_at)
    if rate is None or rate <= 0:
        raise Conflict(ErrorCode.NO_PRICE, f"No {invoice.currency} price for {unapplied.asset} on the day it was "
                       "paid: enter one, then apply.", {"asset": unapplied.asset})
    transfer = Transaction.objects.for_organization(unapplied.organization_id).get(pk=unapplied.transaction_id)
    now = timezone.now()

    def mark_applied(payment: InvoicePayment) -> None:
        changed = UnappliedPayment.objects.for_organization(unapplied.organization_id).filter(
            pk=unapplied.pk, status=UnappliedStatus.OPEN).update(
            status=UnappliedStatus.APPLIED, payment=payment, decided_by=actor, decided_at=now, applied_rate=rate)
        if not changed:
            raise Conflict(ErrorCode.UNAPPLIED_PAYMENT_NOT_OPEN, "That payment was decided meanwhile.", {})

    payment = _apply(organization_id=unapplied.organization_id, invoice_id=invoice.pk, method=PaymentMethod.CRYPTO,
                     external_id=unapplied.external_id, received_at=unapplied.mined_at, amount=unapplied.amount,
                     fair_price=rate, rate=rate, asset=unapplied.asset, transaction=transfer, tx_hash=unapplied.tx_hash,
                     reference=f"{unapplied.tx_hash} (applied late at {plain(rate)} {invoice.currency})",
                     recorded_by=actor, within=mark_applied)
    if payment is None:
        raise Conflict(ErrorCode.UNAPPLIED_PAYMENT_NOT_OPEN, "That transfer was applied already.", {})
    unapplied.status, unapplied.payment, unapplied.applied_rate = UnappliedStatus.APPLIED, payment, rate
    return payment


def unapplied_payment_dismiss(*, actor, unapplied: UnappliedPayment, reason: str) -> UnappliedPayment:
    """Close an unapplied payment without applying it (e.g. refunded outside), with the reason; the
    transfer stays a recorded wallet transaction and is never matched again."""
    permissions.acting_organization_id(actor, permissions.can_issue_invoices, unapplied.organization_id,
                                       refused=ISSUE_REFUSED, system_allowed=False)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "Say why the payment is dismissed (e.g. refunded).",
                           {"reason": "required"})
    if len(reason) > 500:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "The reason is at most 500 characters.", {"reason": "too long"})
    _unapplied_open(unapplied)
    now = timezone.now()
    changed = UnappliedPayment.objects.for_organization(unapplied.organization_id).filter(
        pk=unapplied.pk, status=UnappliedStatus.OPEN).update(
        status=UnappliedStatus.DISMISSED, decided_by=actor, decided_at=now, dismiss_reason=reason)
    fresh = UnappliedPayment.objects.for_organization(unapplied.organization_id).get(pk=unapplied.pk)
    if not changed:
        _unapplied_open(fresh)
    invoice_event(Invoice.objects.get(pk=fresh.invoice_id), "invoice.unapplied_dismissed")
    return fresh


_announcing = threading.local()


def payments_seen_announce(organization_id) -> int:
    """Tell the payment pages of the organization's open crypto invoices about incoming transfers the
    monitor recorded that the matching rule gives them and settlement has not applied yet
    (`payment.seen`; settlement confirms them within a minute). Returns how many were announced."""
    invoices = list(Invoice.objects.for_organization(organization_id).filter(
        status__in=OPEN_STATUSES, kind=InvoiceKind.INVOICE, payment_wallet__isnull=False, crypto_amount__isnull=False,
        payment_token__isnull=False))
    if not invoices:
        return 0
    announced = 0
    by_wallet: dict[tuple, list[Invoice]] = {}
    for invoice in invoices:
        by_wallet.setdefault((invoice.payment_wallet_id, invoice.crypto_currency), []).append(invoice)
    assets = {a.symbol: a for a in Cryptocurrency.objects.filter(symbol__in=sorted({k[1] for k in by_wallet}))}
    for (wallet_id, symbol), group in by_wallet.items():
        if symbol not in assets:
            continue
        transfers = list(Transaction.objects.for_organization(organization_id).filter(
            wallet_id=wallet_id, cryptocurrency_id=assets[symbol].pk, source=TransactionSource.CHAIN,
            direction=TransferDirection.IN, status=TransactionStatus.CONFIRMED, external_id__isnull=False,
            created_at__gte=min(i.issued_at for i in group)))
        done = _handled(organization_id, [t.external_id for t in transfers])
        for transfer in transfers:
            if transfer.external_id in done or transfer.amount <= 0:
                continue
            invoice = choose_invoice(transfer.amount, [i for i in group if quote_covers(i, transfer)])
            if invoice is not None:
                events.payment_seen_publish(invoice, amount=transfer.amount, tx_hash=transfer.hash)
                announced += 1
    return announced


def on_transactions_changed(sender, user_id=None, organization_id=None, after_commit=True, **kwargs):
    """wallets.signals.transactions_changed (the monitor recorded transfers): announce the payments
    seen to their invoices' payment pages once the change is committed. Cheap when the organization
    has no open crypto invoice; never raises into the sender."""
    def run():
        if getattr(_announcing, "active", False):
            return
        _announcing.active = True
        try:
            org = organization_id or User.objects.filter(pk=user_id).values_list("organization_id", flat=True).first()
            if org:
                payments_seen_announce(org)
        except Exception:  # a live hint only: settlement does the real work
            logger.exception("announcing seen payments of %s failed", organization_id or user_id)
        finally:
            _announcing.active = False

    if after_commit:
        run_after_commit(run, robust=True)
    else:
        run()
