"""Invoices paid in crypto (spec: the Invoices collection), their payments, templates and number
counters. Every row belongs to one organization (core.tenancy.OrganizationOwned).

Lifecycle (invoicing.services.lifecycle): DRAFT -> SENT -> PAID; DRAFT/SENT -> CANCELLED; SENT ->
OVERDUE (periodic task after `due_date`) -> PAID when paid late. PARTIALLY_PAID is an extra state: a
payment that leaves part of the total open (SENT/OVERDUE -> PARTIALLY_PAID -> PAID, and
PARTIALLY_PAID -> OVERDUE after the due date). Only drafts change; a sent invoice is corrected by a
credit note (kind CREDIT_NOTE, negative amounts, `credit_note_of` the invoice), never edited.

Amounts are exact Decimals (Decimal128) in the invoice's `currency`; they are computed by
invoicing.totals, never taken from the client.
"""

from decimal import localcontext

from django.conf import settings
from django.db import models
from django.db.models import UniqueConstraint
from django_mongodb_backend.fields import EmbeddedModelArrayField
from django_mongodb_backend.models import EmbeddedModel

from core.money import EXACT, FIAT_AMOUNT, TOKEN_AMOUNT, quantize_asset
from core.tenancy import OrganizationOwned
from core.time_indexed import TimeIndexed, TimeIndexedQuerySet


CRYPTO_QUOTE_PLACES = 8  # crypto amounts asked are rounded to 8 decimals (invoicing.services.crypto)


class InvoiceStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    SENT = "SENT", "Sent"
    PARTIALLY_PAID = "PARTIALLY_PAID", "Partially paid"
    PAID = "PAID", "Paid"
    OVERDUE = "OVERDUE", "Overdue"
    CANCELLED = "CANCELLED", "Cancelled"


# Issued and not settled: payments are matched to these, reminders and the overdue task see them.
OPEN_STATUSES = (InvoiceStatus.SENT, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.OVERDUE)


class InvoiceKind(models.TextChoices):
    INVOICE = "INVOICE", "Invoice"
    CREDIT_NOTE = "CREDIT_NOTE", "Credit note"


class TemplateLayout(models.TextChoices):
    CLASSIC = "classic", "Classic"
    MODERN = "modern", "Modern"
    COMPACT = "compact", "Compact"


class PaymentMethod(models.TextChoices):
    CRYPTO = "CRYPTO", "Crypto (on chain)"
    BANK = "BANK", "Bank transfer"
    CASH = "CASH", "Cash"


class InvoiceTemplate(OrganizationOwned):
    """A stored layout choice with its footer and payment terms; an invoice picks one by `key`."""

    key = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    layout = models.CharField(max_length=16, choices=TemplateLayout.choices, default=TemplateLayout.CLASSIC)
    footer_text = models.TextField(blank=True, default="")
    payment_terms = models.TextField(blank=True, default="")
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "invoice_templates"
        ordering = ["key"]
        constraints = [UniqueConstraint(fields=["organization", "key"], name="invoice_templates_org_key_uniq")]
        indexes = [models.Index(fields=["organization", "key"], name="invoice_templates_org_key_idx")]

    def __str__(self) -> str:
        return self.name


class InvoiceItem(EmbeddedModel):
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(**TOKEN_AMOUNT)
    unit_price = models.DecimalField(**FIAT_AMOUNT)
    tax_rate = models.DecimalField(null=True, blank=True, max_digits=9, decimal_places=4)
    total = models.DecimalField(**FIAT_AMOUNT)


class Invoice(TimeIndexed, OrganizationOwned):
    # Invoices per organization and day, for the list's first-page window (core.time_indexed).
    time_index_scope, time_index_field = "invoices", "created_at"
    objects = TimeIndexedQuerySet.as_manager()

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    credit_note_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="credit_notes")
    # INV-<year>-<6 digits> (credit notes CN-...), given when the invoice leaves DRAFT: gap-free per
    # organization and year. Drafts have none.
    invoice_number = models.CharField(max_length=20, null=True, blank=True, editable=False)
    template = models.ForeignKey(InvoiceTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    client_name = models.CharField(max_length=200)
    client_email = models.EmailField(blank=True, default="")
    client_address = models.TextField(blank=True, default="")
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    subtotal = models.DecimalField(default=0, **FIAT_AMOUNT)
    tax_rate = models.DecimalField(default=0, max_digits=9, decimal_places=4)
    tax_amount = models.DecimalField(default=0, **FIAT_AMOUNT)
    total_amount = models.DecimalField(default=0, **FIAT_AMOUNT)
    currency = models.CharField(max_length=3, default="USD")
    items = EmbeddedModelArrayField(InvoiceItem, default=list)
    notes = models.TextField(blank=True, default="")
    # Crypto payment terms: the receiving wallet of the organization and the asset; the amount and
    # rate are fixed when the invoice is issued and hold until `crypto_valid_until`.
    payment_wallet = models.ForeignKey("wallets.Wallet", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    crypto_payment_address = models.CharField(max_length=42, blank=True, default="")
    crypto_currency = models.CharField(max_length=20, blank=True, default="")
    crypto_amount = models.DecimalField(null=True, blank=True, **TOKEN_AMOUNT)
    crypto_rate = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    crypto_rate_source = models.CharField(max_length=32, blank=True, default="")
    crypto_rate_at = models.DateTimeField(null=True, blank=True)
    crypto_valid_until = models.DateTimeField(null=True, blank=True)
    # "<address>:<asset>:<amount>" while the invoice is open with crypto terms, else null: unique in
    # the organization, so two open invoices never ask the same address for the same amount.
    payment_slot = models.CharField(max_length=120, null=True, blank=True, editable=False)
    # The unguessable token of the public payment page /pay/<token>/ (given at issue).
    payment_token = models.CharField(max_length=64, null=True, blank=True, editable=False)
    # Settlement, in the invoice's currency (credited: by credit notes) and in crypto.
    amount_paid = models.DecimalField(default=0, **FIAT_AMOUNT)
    credited_amount = models.DecimalField(default=0, **FIAT_AMOUNT)
    overpaid_amount = models.DecimalField(default=0, **FIAT_AMOUNT)
    crypto_received = models.DecimalField(default=0, **TOKEN_AMOUNT)
    file_path = models.CharField(max_length=300, blank=True, default="")
    issued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    issue_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "invoices"
        ordering = ["-created_at"]
        # Plain indexes beside the partial unique ones, which the embedded server never uses (stack.md, defect 2).
        constraints = [
            UniqueConstraint(fields=["organization", "invoice_number"], name="invoices_org_number_uniq"),
            UniqueConstraint(fields=["organization", "payment_slot"], name="invoices_org_slot_uniq"),
            UniqueConstraint(fields=["payment_token"], name="invoices_payment_token_uniq"),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="invoices_org_created_idx"),
            models.Index(fields=["organization", "status", "due_date"], name="invoices_org_status_due_idx"),
            models.Index(fields=["organization", "invoice_number"], name="invoices_org_number_idx"),
            models.Index(fields=["organization", "payment_slot"], name="invoices_org_slot_idx"),
            models.Index(fields=["payment_token"], name="invoices_payment_token_idx"),
            models.Index(fields=["status", "payment_wallet"], name="invoices_status_wallet_idx"),
        ]

    def __str__(self) -> str:
        return self.invoice_number or f"draft {self.pk}"

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    @property
    def amount_due(self):
        """What is still owed on the invoice (never below zero)."""
        due = self.total_amount - self.amount_paid - self.credited_amount
        return due if due > 0 else due * 0

    @property
    def crypto_due(self):
        """The crypto still asked: the quoted amount of the total scaled by what is still due (so it
        holds after partial payments, credit notes and a re-quote)."""
        if self.crypto_amount is None or self.total_amount <= 0:
            return None
        with localcontext(EXACT):
            return quantize_asset(self.crypto_amount * self.amount_due / self.total_amount, CRYPTO_QUOTE_PLACES)


class InvoicePayment(OrganizationOwned):
    """One payment applied to an invoice: a matched incoming transfer (its `external_id` is the
    transaction's, unique in the organization: a transfer settles at most one invoice, once) or a
    payment recorded by hand (bank, cash)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=8, choices=PaymentMethod.choices)
    external_id = models.CharField(max_length=200)
    transaction = models.ForeignKey("wallets.Transaction", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    tx_hash = models.CharField(max_length=66, blank=True, default="")
    asset = models.CharField(max_length=20, blank=True, default="")
    crypto_amount = models.DecimalField(null=True, blank=True, **TOKEN_AMOUNT)
    # The part of the invoice settled (its currency), the fair value of what came in, what came in
    # beyond the amount due, and the exchange difference booked (positive: a gain).
    fiat_amount = models.DecimalField(**FIAT_AMOUNT)
    fair_value = models.DecimalField(**FIAT_AMOUNT)
    overpaid_amount = models.DecimalField(default=0, **FIAT_AMOUNT)
    fx_difference = models.DecimalField(default=0, **FIAT_AMOUNT)
    received_at = models.DateTimeField()
    reference = models.CharField(max_length=200, blank=True, default="")
    journal_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "invoice_payments"
        ordering = ["received_at"]
        constraints = [UniqueConstraint(fields=["organization", "external_id"], name="invoice_payments_org_ext_uniq")]
        indexes = [
            models.Index(fields=["organization", "external_id"], name="invoice_payments_org_ext_idx"),
            models.Index(fields=["organization", "invoice"], name="invoice_payments_org_inv_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.fiat_amount} on {self.invoice_id}"


class InvoiceCounter(OrganizationOwned):
    """The last number an organization used for a series and year (key "<organization id>:INV-2026"),
    taken through core.counters inside the issuing transaction: a failed issue rolls its number back
    (no gaps)."""

    key = models.CharField(max_length=64)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "invoice_counters"
        constraints = [UniqueConstraint(fields=["organization", "key"], name="invoice_counters_org_key_uniq")]
        indexes = [models.Index(fields=["organization", "key"], name="invoice_counters_org_key_idx")]

    def __str__(self) -> str:
        return f"{self.key}: {self.last_number}"


class UnappliedReason(models.TextChoices):
    QUOTE_EXPIRED = "QUOTE_EXPIRED", "Paid after the crypto quote expired"
    INVOICE_PAID = "INVOICE_PAID", "The invoice was already paid"
    INVOICE_CANCELLED = "INVOICE_CANCELLED", "The invoice was cancelled"


class UnappliedStatus(models.TextChoices):
    OPEN = "OPEN", "Open (staff decide)"
    APPLIED = "APPLIED", "Applied to the invoice"
    DISMISSED = "DISMISSED", "Dismissed (e.g. refunded outside)"


class UnappliedPayment(OrganizationOwned):
    """An incoming transfer into an invoice's receiving address, in its asset, that settlement could
    not apply (paid after the quote expired, or to an invoice already PAID or CANCELLED): recorded
    against the invoice once (`external_id`, the transaction's, unique in the organization), shown to
    staff, who apply it (invoicing.services.payments.unapplied_payment_apply: a normal payment at the
    market rate of the day it was mined) or dismiss it with a reason (e.g. refunded outside)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="unapplied_payments")
    transaction = models.ForeignKey("wallets.Transaction", on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(max_length=200)
    tx_hash = models.CharField(max_length=66, blank=True, default="")
    asset = models.CharField(max_length=20)
    amount = models.DecimalField(**TOKEN_AMOUNT)
    mined_at = models.DateTimeField()
    seen_at = models.DateTimeField()
    reason = models.CharField(max_length=20, choices=UnappliedReason.choices)
    status = models.CharField(max_length=10, choices=UnappliedStatus.choices, default=UnappliedStatus.OPEN)
    # The decision: who, when, the rate applied (fiat per unit) and its payment, or why it was dismissed.
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    applied_rate = models.DecimalField(null=True, blank=True, **FIAT_AMOUNT)
    payment = models.ForeignKey(InvoicePayment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dismiss_reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        db_table = "invoice_unapplied_payments"
        ordering = ["mined_at"]
        constraints = [UniqueConstraint(fields=["organization", "external_id"],
                                        name="invoice_unapplied_org_ext_uniq")]
        indexes = [
            models.Index(fields=["organization", "external_id"], name="invoice_unapplied_org_ext_idx"),
            models.Index(fields=["organization", "invoice", "status"], name="invoice_unapplied_org_inv_idx"),
            models.Index(fields=["organization", "status"], name="invoice_unapplied_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.asset} unapplied on {self.invoice_id} ({self.status})"
