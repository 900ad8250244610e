"""The double-entry ledger of each organization: chart of accounts, journal entries (lines
embedded) and the per-year entry number counters. Every row belongs to one organization
(core.tenancy.OrganizationOwned): account codes, system keys, entry numbers and source keys are unique
within it, and every index leads with it (the shard key). The lock date is the organization's
(`core.models.Organization.lock_date`).

Money is an exact Decimal (Decimal128) in the entry's currency. An account's balance is not stored:
it is summed from posted entries (ledger.selectors), so it can never drift from the books.
"""

from django.conf import settings
from django.db import models
from django.db.models import UniqueConstraint
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django_mongodb_backend.fields import EmbeddedModelArrayField
from django_mongodb_backend.models import EmbeddedModel

from core.models import Organization
from core.money import FIAT_AMOUNT, TOKEN_AMOUNT
from core.tenancy import OrganizationOwned
from core.transactions import after_commit
from core.time_indexed import TimeIndexed, TimeIndexedQuerySet

# Same precision as the fiat values elsewhere (core.money.FIAT_AMOUNT): 8 decimals inside.
MONEY = FIAT_AMOUNT


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    REVENUE = "revenue", "Revenue"
    EXPENSE = "expense", "Expense"


# Accounts whose balance is debits minus credits; the others are credits minus debits.
DEBIT_NORMAL_TYPES = (AccountType.ASSET, AccountType.EXPENSE)


class FinancialAccount(OrganizationOwned):
    account_code = models.CharField(max_length=32)  # "1000", "1200-ETH"; unique in the organization
    account_name = models.CharField(max_length=200)
    account_type = models.CharField(max_length=16, choices=AccountType.choices)
    # The parent's account_code (spec); "" for a top-level account. Same type as the parent.
    parent_account = models.CharField(max_length=32, blank=True, default="")
    description = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    currency = models.CharField(max_length=3, default="USD")
    # Role of an account of the default chart ("cash", "crypto:ETH", ...): how the automatic journals
    # find their accounts whatever the code or name is changed to. Empty for accounts made by hand.
    # Unique in the organization.
    system_key = models.CharField(max_length=64, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "financial_accounts"
        ordering = ["account_code"]
        # Plain indexes beside the partial unique ones, which the embedded server never uses (stack.md, defect 2).
        constraints = [
            UniqueConstraint(fields=["organization", "account_code"], name="fin_accounts_org_code_uniq"),
            UniqueConstraint(fields=["organization", "system_key"], name="fin_accounts_org_key_uniq"),
        ]
        indexes = [
            models.Index(fields=["organization", "account_code"], name="fin_accounts_org_code_idx"),
            models.Index(fields=["organization", "account_type"], name="fin_accounts_org_type_idx"),
            models.Index(fields=["organization", "parent_account"], name="fin_accounts_org_parent_idx"),
            models.Index(fields=["organization", "system_key"], name="fin_accounts_org_key_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account_code} {self.account_name}"

    @property
    def is_debit_normal(self) -> bool:
        return self.account_type in DEBIT_NORMAL_TYPES


class EntryStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    POSTED = "posted", "Posted"
    REVERSED = "reversed", "Reversed"


# Statuses whose lines are in the books: a reversed entry stays there, cancelled by its reversal.
BOOKED_STATUSES = (EntryStatus.POSTED, EntryStatus.REVERSED)


class JournalLine(EmbeddedModel):
    """One line of an entry: a debit or a credit (the other amount is zero) to one account."""

    account_code = models.CharField(max_length=32)
    description = models.CharField(max_length=500, blank=True, default="")
    debit_amount = models.DecimalField(default=0, **MONEY)
    credit_amount = models.DecimalField(default=0, **MONEY)
    # On a crypto asset account's line: the units that moved (positive; in on a debit, out on a
    # credit), so holdings - and their fair value at any date - come from the books too.
    asset = models.CharField(max_length=20, blank=True, default="")
    quantity = models.DecimalField(null=True, blank=True, **TOKEN_AMOUNT)

    def __str__(self) -> str:
        side = f"Dr {self.debit_amount}" if self.debit_amount else f"Cr {self.credit_amount}"
        return f"{self.account_code} {side}"


class JournalEntry(TimeIndexed, OrganizationOwned):
    """One document per entry, lines embedded: creating, editing or posting an entry is one write."""

    # Entries per organization and day, for the list's first-page window (core.time_indexed).
    time_index_scope, time_index_field = "journal_entries", "date"
    objects = TimeIndexedQuerySet.as_manager()

    # JE-<year>-<6 digits>, assigned at posting (drafts have none): gap-free per organization and year.
    entry_id = models.CharField(max_length=20, null=True, blank=True, editable=False)
    date = models.DateTimeField()
    description = models.TextField()
    reference = models.CharField(max_length=100, blank=True, default="")
    transaction_hash = models.CharField(max_length=66, blank=True, default="")
    source_transaction = models.ForeignKey("wallets.Transaction", null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="journal_entries")
    # Identity of the event an automatic journal records (e.g. "auto:<organization>:tx:<id>#1"): one
    # entry per event and organization.
    source_key = models.CharField(max_length=200, null=True, blank=True)
    total_debit = models.DecimalField(default=0, **MONEY)
    total_credit = models.DecimalField(default=0, **MONEY)
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=16, choices=EntryStatus.choices, default=EntryStatus.DRAFT)
    line_items = EmbeddedModelArrayField(JournalLine, default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    posted_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reversed_at = models.DateTimeField(null=True, blank=True)
    # On a reversing entry: the entry it reverses (unique: an entry is reversed at most once).
    reversal_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="reversal")
    # On a reversed entry: its reversing entry (written in the same transaction as reversal_of).
    reversal_entry = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                       editable=False)

    class Meta:
        db_table = "journal_entries"
        ordering = ["-date", "-created_at"]
        verbose_name_plural = "journal entries"
        constraints = [
            UniqueConstraint(fields=["organization", "entry_id"], name="journal_org_entry_id_uniq"),
            UniqueConstraint(fields=["organization", "source_key"], name="journal_org_source_key_uniq"),
        ]
        indexes = [
            models.Index(fields=["organization", "entry_id"], name="journal_org_entry_id_idx"),
            models.Index(fields=["organization", "-date"], name="journal_org_date_idx"),
            # A platform superuser's admin list, every organization newest first (core.admin_base).
            models.Index(fields=["-date"], name="journal_date_idx"),
            models.Index(fields=["organization", "status", "date"], name="journal_org_status_date_idx"),
            models.Index(fields=["organization", "source_key"], name="journal_org_source_key_idx"),
            models.Index(fields=["organization", "transaction_hash"], name="journal_org_tx_hash_idx"),
        ]

    def __str__(self) -> str:
        return self.entry_id or f"draft {self.pk}"


class JournalCounter(OrganizationOwned):
    """The last entry number an organization used in a year (key "<organization id>:JE-2026").
    Incremented inside the posting transaction, so a failed post rolls the number back with it and
    numbers have no gaps. The key "<organization id>:chart-tree" counts moves in that organization's
    account tree: bumping it makes concurrent re-parentings conflict."""

    key = models.CharField(max_length=64)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "journal_counters"
        constraints = [UniqueConstraint(fields=["organization", "key"], name="journal_counters_org_key_uniq")]
        indexes = [models.Index(fields=["organization", "key"], name="journal_counters_org_key_idx")]

    def __str__(self) -> str:
        return f"{self.key}: {self.last_number}"


# The audit log's action for a lock date change (written by the service, read for "changed by").
LOCK_DATE_AUDIT_ACTION = "ledger_lock_date_set"


class LockDate(Organization):
    """The lock date as the admin shows it: a form on the organization (its `lock_date`), saved
    through ledger.services.ledger_lock_date_set (rules and audit log). No collection of its own."""

    class Meta:
        proxy = True
        verbose_name = "lock date"
        verbose_name_plural = "lock date"


class BookingProblem(OrganizationOwned):
    """A trade of the organization the automatic journals could not book (issue 19: data problems are
    visible, not blocking): a transaction without the fiat value it needs, a sale of more than is
    held, a group of imported rows that is not one trade. The sync books everything else, records
    the problem here (one per trade key, upserted: `first_seen` kept, `last_seen` and the reason
    refreshed at every sync that meets it) and deletes it once the trade books again (or is gone).
    Shown to those who may view the books on /app/ledger/review/."""

    # The trade's key in the sync (ledger.tax_trades: "tx:<id>", an import row, a chain movement).
    trade_key = models.CharField(max_length=200)
    # The (first) stored transaction of the trade: what to open and fix.
    transaction = models.ForeignKey("wallets.Transaction", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reason = models.TextField()
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        db_table = "ledger_booking_problems"
        ordering = ["-last_seen"]
        constraints = [UniqueConstraint(fields=["organization", "trade_key"], name="booking_problem_org_key_uniq")]
        indexes = [models.Index(fields=["organization", "trade_key"], name="booking_problem_org_key_idx"),
                   models.Index(fields=["organization", "-first_seen"], name="booking_problem_org_seen_idx")]

    def __str__(self) -> str:
        return f"{self.trade_key}: {self.reason[:80]}"


class AttachmentKind(models.TextChoices):
    FILE = "file", "File"
    REFERENCE = "reference", "Reference"


def attachment_path(attachment, filename: str) -> str:
    """Stored under the organization (and the entry): `ledger/attachments/<organization>/<entry>/<name>`."""
    return f"ledger/attachments/{attachment.organization_id}/{attachment.entry_id}/{filename}"


class JournalAttachment(OrganizationOwned):
    """A supporting document of a journal entry (issue 11): a file (PDF, PNG, JPEG or CSV, its type
    sniffed from its bytes, stored in the media storage under the organization) or a reference text
    (where the document is kept). Added and removed only while the entry is a draft
    (ledger.services.attachments); a posted entry's attachments are as immutable as its lines."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=16, choices=AttachmentKind.choices)
    file = models.FileField(upload_to=attachment_path, max_length=300, blank=True)
    original_name = models.CharField(max_length=255, blank=True, default="")
    content_type = models.CharField(max_length=100, blank=True, default="")  # sniffed, never the client's
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    reference = models.CharField(max_length=500, blank=True, default="")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "journal_attachments"
        ordering = ["created_at"]
        indexes = [models.Index(fields=["organization", "entry"], name="journal_attach_org_entry_idx")]

    def __str__(self) -> str:
        return self.original_name or self.reference[:80]


@receiver(post_delete, sender=JournalAttachment, dispatch_uid="ledger_attachment_file_delete")
def _attachment_file_delete(sender, instance, **kwargs) -> None:
    """An attachment's file goes with its row (removed on its own, or with its draft), once the
    deletion commits: never a file without a row, never a row without its file."""
    if instance.file:
        name, storage = instance.file.name, instance.file.storage
        after_commit(lambda: storage.delete(name), robust=True)
