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
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from django.db import DatabaseError, IntegrityError
from django.utils import timezone
from pymongo.errors import PyMongoError

from accounts.models import NotificationPriority, NotificationType, User
from accounts.notifications import notification_create
from core import permissions
from core.errors import Conflict, ErrorCode, InvalidInput, NotFound
from core.models import Organization
from core.money import EXACT, ZERO, format_fiat
from core.transactions import after_commit as run_after_commit, in_transaction, is_transient
import invoicing.events as events
from invoicing.models import Invoice, InvoiceKind, InvoicePayment, InvoiceStatus, OPEN_STATUSES, PaymentMethod
import invoicing.services.books as books
from invoicing.services.lifecycle import ISSUE_REFUSED, invoice_event
from invoicing.totals import cents
from wallets import prices
from wallets.models import Cryptocurrency, Transaction, TransactionSource, TransactionStatus, TransferDirection

logger = logging.getLogger(__name__)
S = InvoiceStatus


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
           reference: str = "", recorded_by=None) -> InvoicePayment | None:
    """Apply one payment to one invoice, in one transaction. `amount`: crypto units (CRYPTO) or the
    fiat paid (BANK/CASH). Returns None when that external id was applied already."""
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
                value = amount * invoice.total_amount / invoice.crypto_amount  # at the quoted rate
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
    return invoice.crypto_rate


@dataclass
class SettlementReport:
    applied: int = 0
    skipped: int = 0
    payments: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"applied": self.applied, "skipped": self.skipped, "payments": self.payments}


def invoices_settle_transfers() -> SettlementReport:
    """Match confirmed incoming chain transfers to open invoices (module docstring). System work
    over every organization, each transfer applied in its own organization."""
    report = SettlementReport()
    open_invoices = Invoice.objects.filter(status__in=OPEN_STATUSES, kind=InvoiceKind.INVOICE,
                                           payment_wallet__isnull=False, crypto_amount__isnull=False)
    groups: dict[tuple, list[Invoice]] = {}
    for invoice in open_invoices:
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
        done = set(InvoicePayment.objects.for_organization(organization_id).filter(
            external_id__in=[t.external_id for t in transfers]).values_list("external_id", flat=True))
        for transfer in transfers:
            if transfer.external_id in done or transfer.amount <= 0:
                continue
            candidates = [i for i in Invoice.objects.for_organization(organization_id).filter(
                status__in=OPEN_STATUSES, kind=InvoiceKind.INVOICE, payment_wallet_id=wallet_id,
                crypto_currency=symbol, crypto_amount__isnull=False) if quote_covers(i, transfer)]
            invoice = choose_invoice(transfer.amount, candidates)
            if invoice is None:
                report.skipped += 1
                continue
            try:
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
        done = set(InvoicePayment.objects.for_organization(organization_id).filter(
            external_id__in=[t.external_id for t in transfers]).values_list("external_id", flat=True))
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
