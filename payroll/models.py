"""Crypto payroll: pay profiles, withholding tables, payroll periods and their payslips, recurring
payments. Every row belongs to one organization (core.tenancy.OrganizationOwned); ids such as
`period_id` and `payslip_id` are unique within it, and every index leads with it.

Money is an exact Decimal (Decimal128) in the period's currency (the organization's reporting fiat),
in whole cents as the engine (payroll.engine) computes them; payout quantities keep the asset's
decimals (core.money.TOKEN_AMOUNT).
"""

from django.conf import settings
from django.db import models
from django.db.models import UniqueConstraint

from core.money import FIAT_AMOUNT, TOKEN_AMOUNT
from core.tenancy import OrganizationOwned
from core.time_indexed import TimeIndexed, TimeIndexedQuerySet
from payroll.engine import Frequency

MONEY = FIAT_AMOUNT


class PaymentMethod(models.TextChoices):
    CRYPTO = "crypto", "Crypto"
    BANK = "bank", "Bank transfer"
    CASH = "cash", "Cash"


class PayType(models.TextChoices):
    SALARY = "salary", "Salaried"
    HOURLY = "hourly", "Hourly"


class GasFeeBearer(models.TextChoices):
    COMPANY = "company", "Company (the employee receives the full net pay)"
    EMPLOYEE = "employee", "Employee (deducted from the payout)"


class MissedOccurrences(models.TextChoices):
    PAY = "pay", "Pay each missed occurrence once"
    SKIP = "skip", "Skip missed occurrences (pay only the latest due)"


class PayrollSettings(OrganizationOwned):
    """An organization's payroll rules that are not a withholding table (one document per
    organization, made on first use with the defaults)."""

    overtime_multiple = models.DecimalField(default="1.5", **MONEY)
    gas_fee_bearer = models.CharField(max_length=10, choices=GasFeeBearer.choices, default=GasFeeBearer.COMPANY)
    # The company wallet crypto payslips and recurring payments are paid from when none is named.
    payout_wallet = models.ForeignKey("wallets.Wallet", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    # After downtime, occurrences of a recurring payment that fell due meanwhile: paid once each, or skipped.
    missed_recurring = models.CharField(max_length=10, choices=MissedOccurrences.choices,
                                        default=MissedOccurrences.PAY)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "payroll_settings"
        verbose_name_plural = "payroll settings"
        constraints = [UniqueConstraint(fields=["organization"], name="payroll_settings_org_uniq")]

    def __str__(self) -> str:
        return f"payroll settings of {self.organization_id}"


class PayProfile(OrganizationOwned):
    """How one employee is paid: amounts per FULL pay period (pro-rated by the engine for a start or
    leave inside a period), hourly staff by hours x rate, and where the net pay goes."""

    employee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    pay_type = models.CharField(max_length=10, choices=PayType.choices, default=PayType.SALARY)
    basic_salary = models.DecimalField(default=0, **MONEY)
    housing_allowance = models.DecimalField(default=0, **MONEY)
    transport_allowance = models.DecimalField(default=0, **MONEY)
    other_allowances = models.DecimalField(default=0, **MONEY)
    hourly_rate = models.DecimalField(default=0, **MONEY)  # hourly staff; salaried: the overtime base
    standard_hours = models.DecimalField(default=0, **MONEY)  # hourly staff: hours drafted per period
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.BANK)
    wallet_address = models.CharField(max_length=42, blank=True, default="")  # crypto: where the net pay goes
    payout_asset = models.CharField(max_length=20, blank=True, default="")  # crypto: "ETH", "DEMO", ...
    bank_details = models.JSONField(default=dict, blank=True)  # bank: {"account_name", "iban", "bic", ...}
    department = models.CharField(max_length=200, blank=True, default="")
    position = models.CharField(max_length=200, blank=True, default="")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)  # the leave date
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "payroll_pay_profiles"
        constraints = [UniqueConstraint(fields=["organization", "employee"], name="pay_profiles_org_employee_uniq")]
        indexes = [models.Index(fields=["organization", "employee"], name="pay_profiles_org_employee_idx")]

    def __str__(self) -> str:
        return f"pay profile of {self.employee_id}"


class WithholdingTable(OrganizationOwned):
    """One version of an organization's withholding table (payroll.engine.withholding): brackets
    [{"up_to": "1000" | null, "rate": "0.10"}, ...] or a flat rate, plus insurance rates. The version
    with the latest `effective_from` on or before a period's pay date applies."""

    name = models.CharField(max_length=200)
    effective_from = models.DateField()
    brackets = models.JSONField(default=list, blank=True)
    flat_rate = models.DecimalField(null=True, blank=True, **MONEY)
    employee_insurance_rate = models.DecimalField(default=0, **MONEY)
    employer_insurance_rate = models.DecimalField(default=0, **MONEY)
    description = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payroll_withholding_tables"
        ordering = ["-effective_from"]
        constraints = [UniqueConstraint(fields=["organization", "effective_from"],
                                        name="withholding_org_effective_uniq")]
        indexes = [models.Index(fields=["organization", "effective_from"], name="withholding_org_effective_idx")]

    def __str__(self) -> str:
        return f"{self.name} (from {self.effective_from})"


class PeriodStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROCESSING = "processing", "Processing"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"


class PayrollPeriod(OrganizationOwned):
    period_id = models.CharField(max_length=64)  # "2026-01"; unique in the organization
    description = models.CharField(max_length=200, blank=True, default="")
    start_date = models.DateField()
    end_date = models.DateField()
    pay_date = models.DateField()
    status = models.CharField(max_length=12, choices=PeriodStatus.choices, default=PeriodStatus.DRAFT)
    currency = models.CharField(max_length=3, default="USD")
    # Sums of the period's payslips (not cancelled), kept by the services: net (the spec's total_amount),
    # gross, tax, insurance (employee + employer).
    total_amount = models.DecimalField(default=0, **MONEY)
    total_gross = models.DecimalField(default=0, **MONEY)
    total_tax = models.DecimalField(default=0, **MONEY)
    total_insurance = models.DecimalField(default=0, **MONEY)
    payslip_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payroll_periods"
        ordering = ["-start_date", "-created_at"]
        constraints = [UniqueConstraint(fields=["organization", "period_id"], name="payroll_periods_org_pid_uniq")]
        indexes = [
            models.Index(fields=["organization", "period_id"], name="payroll_periods_org_pid_idx"),
            models.Index(fields=["organization", "-start_date"], name="payroll_periods_org_start_idx"),
            models.Index(fields=["organization", "status"], name="payroll_periods_org_status_idx"),
        ]

    def __str__(self) -> str:
        return self.period_id


class ApprovalStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    CANCELLED = "cancelled", "Cancelled"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"  # crypto: payout terms fixed, the transfer on its way
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"




class Payslip(TimeIndexed, OrganizationOwned):
    # Payslips per organization and day, for the list's first-page window (core.time_indexed).
    time_index_scope, time_index_field = "payslips", "created_at"
    objects = TimeIndexedQuerySet.as_manager()

    payslip_id = models.CharField(max_length=100)  # "<period_id>-<NNN>"; unique in the organization
    period = models.ForeignKey(PayrollPeriod, on_delete=models.PROTECT, related_name="payslips")
    employee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    employee_name = models.CharField(max_length=300, blank=True, default="")
    department = models.CharField(max_length=200, blank=True, default="")
    position = models.CharField(max_length=200, blank=True, default="")
    currency = models.CharField(max_length=3, default="USD")
    # inputs (editable while draft)
    pay_type = models.CharField(max_length=10, choices=PayType.choices, default=PayType.SALARY)
    base_salary = models.DecimalField(default=0, **MONEY)  # full-period salary before pro-rating
    base_housing = models.DecimalField(default=0, **MONEY)
    base_transport = models.DecimalField(default=0, **MONEY)
    base_other_allowances = models.DecimalField(default=0, **MONEY)
    hourly_rate = models.DecimalField(default=0, **MONEY)
    hours_worked = models.DecimalField(default=0, **MONEY)
    overtime_hours = models.DecimalField(default=0, **MONEY)
    overtime_rate_override = models.DecimalField(null=True, blank=True, **MONEY)
    bonus_amount = models.DecimalField(default=0, **MONEY)
    # [{"type": "loan", "amount": "100.00", "description": "..."}]: the Payroll Entries' free-form list
    other_deductions = models.JSONField(default=list, blank=True)
    employment_start = models.DateField(null=True, blank=True)
    employment_end = models.DateField(null=True, blank=True)
    # figures (payroll.engine.compute_payslip, whole cents)
    basic_salary = models.DecimalField(default=0, **MONEY)
    housing_allowance = models.DecimalField(default=0, **MONEY)
    transport_allowance = models.DecimalField(default=0, **MONEY)
    other_allowances = models.DecimalField(default=0, **MONEY)
    hourly_pay = models.DecimalField(default=0, **MONEY)
    overtime_rate = models.DecimalField(default=0, **MONEY)
    overtime_amount = models.DecimalField(default=0, **MONEY)
    gross_salary = models.DecimalField(default=0, **MONEY)
    tax = models.DecimalField(default=0, **MONEY)
    insurance = models.DecimalField(default=0, **MONEY)  # the employee's, withheld
    other_deductions_total = models.DecimalField(default=0, **MONEY)
    total_deductions = models.DecimalField(default=0, **MONEY)
    net_salary = models.DecimalField(default=0, **MONEY)
    employer_insurance = models.DecimalField(default=0, **MONEY)
    days_paid = models.PositiveIntegerField(default=0)
    days_in_period = models.PositiveIntegerField(default=0)
    withholding_table = models.ForeignKey(WithholdingTable, null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+")
    # approval
    approval_status = models.CharField(max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.DRAFT)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    # payment
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.BANK)
    wallet_address = models.CharField(max_length=42, blank=True, default="")
    bank_details = models.JSONField(default=dict, blank=True)
    payment_status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    payment_date = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(max_length=200, blank=True, default="")  # bank / cash: the manager's
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    payment_transaction_hash = models.CharField(max_length=66, blank=True, default="")
    # crypto payout (filled by the payout machinery; the intent's idempotency key is the payslip's id)
    payout_wallet = models.ForeignKey("wallets.Wallet", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    payout_asset = models.CharField(max_length=20, blank=True, default="")
    payout_amount = models.DecimalField(null=True, blank=True, **TOKEN_AMOUNT)  # in the asset's decimals
    payout_rate = models.DecimalField(null=True, blank=True, **MONEY)  # fiat per whole unit of the asset
    payout_rate_source = models.CharField(max_length=50, blank=True, default="")
    payout_intent_key = models.CharField(max_length=64, blank=True, default="")
    gas_fee = models.DecimalField(null=True, blank=True, **TOKEN_AMOUNT)  # ETH the transfer actually paid
    # Who bears the gas, fixed with the terms (the organization's setting at that moment). Employee: the
    # fee charged (payroll.engine.gas) is stored here BEFORE anything is signed and never recomputed;
    # payout_amount (sent) + gas_fee_charged = payout_net_amount, to the asset's last digit.
    gas_fee_bearer = models.CharField(max_length=10, blank=True, default="")
    payout_net_amount = models.DecimalField(null=True, blank=True, **TOKEN_AMOUNT)  # the net pay in the asset
    gas_fee_charged = models.DecimalField(null=True, blank=True, **TOKEN_AMOUNT)  # in the payout asset
    gas_fee_charged_eth = models.DecimalField(null=True, blank=True, **TOKEN_AMOUNT)  # gas limit x max fee, in ETH
    gas_fee_charged_fiat = models.DecimalField(null=True, blank=True, **MONEY)  # fee x payout rate, in cents
    gas_charge_limit = models.PositiveIntegerField(null=True, blank=True)
    gas_charge_max_fee_per_gas = models.PositiveBigIntegerField(null=True, blank=True)  # wei
    gas_charge_eth_rate = models.DecimalField(null=True, blank=True, **MONEY)  # token payouts: fiat per ETH
    payout_transfer = models.ForeignKey("wallets.OutgoingTransfer", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    payout_attempts = models.PositiveIntegerField(default=0)  # a failed payout is retried under a new intent key
    payout_error = models.TextField(blank=True, default="")
    # books
    accrual_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    payment_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    # the email (send): claimed once, then delivered
    emailed_at = models.DateTimeField(null=True, blank=True)
    emailed_to = models.EmailField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "payslips"
        ordering = ["payslip_id"]
        constraints = [
            UniqueConstraint(fields=["organization", "payslip_id"], name="payslips_org_psid_uniq"),
            UniqueConstraint(fields=["organization", "period", "employee"], name="payslips_org_period_emp_uniq"),
        ]
        indexes = [
            models.Index(fields=["organization", "payslip_id"], name="payslips_org_psid_idx"),
            models.Index(fields=["organization", "period"], name="payslips_org_period_idx"),
            models.Index(fields=["organization", "employee"], name="payslips_org_employee_idx"),
            models.Index(fields=["organization", "payment_status"], name="payslips_org_pay_status_idx"),
            models.Index(fields=["organization", "-created_at"], name="payslips_org_created_idx"),
        ]

    def __str__(self) -> str:
        return self.payslip_id


class RecurringPayment(OrganizationOwned):
    """A payment repeated on a calendar (payroll.engine.calendar), paid from `wallet` (else the
    organization's payout wallet) by the periodic task (payroll.services.recurring): each due
    occurrence once (RecurringOccurrence), on the authority of `user` (the manager who made it)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    payment_name = models.CharField(max_length=200)
    recipient_name = models.CharField(max_length=200)
    recipient_wallet = models.CharField(max_length=42)
    amount = models.DecimalField(**TOKEN_AMOUNT)
    cryptocurrency = models.CharField(max_length=20)
    frequency = models.CharField(max_length=10, choices=[(f.value, f.value.title()) for f in Frequency])
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    next_payment_date = models.DateField(null=True, blank=True)
    last_payment_date = models.DateField(null=True, blank=True)
    total_payments_made = models.PositiveIntegerField(default=0)
    occurrences_claimed = models.PositiveIntegerField(default=0)  # paid or skipped: the next occurrence's index
    wallet = models.ForeignKey("wallets.Wallet", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "recurring_payments"
        indexes = [models.Index(fields=["organization", "is_active", "next_payment_date"],
                                name="recurring_org_due_idx")]

    def __str__(self) -> str:
        return self.payment_name


class OccurrenceStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # claimed: its payout is on its way
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class RecurringOccurrence(OrganizationOwned):
    """One occurrence of a recurring payment, claimed once: (payment, index) is unique, and the claim
    moves the schedule's `next_payment_date` / `total_payments_made` in the same transaction. Its
    payout's intent key is `recurring:<payment>:<index>` (wallets.transfers.payout_send)."""

    payment = models.ForeignKey(RecurringPayment, on_delete=models.PROTECT, related_name="occurrences")
    index = models.PositiveIntegerField()
    due_date = models.DateField()
    amount = models.DecimalField(**TOKEN_AMOUNT)
    cryptocurrency = models.CharField(max_length=20)
    recipient_wallet = models.CharField(max_length=42)
    status = models.CharField(max_length=10, choices=OccurrenceStatus.choices, default=OccurrenceStatus.PENDING)
    intent_key = models.CharField(max_length=100)
    transfer = models.ForeignKey("wallets.OutgoingTransfer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "recurring_occurrences"
        ordering = ["payment", "index"]
        constraints = [UniqueConstraint(fields=["payment", "index"], name="recurring_occurrence_uniq")]
        indexes = [models.Index(fields=["organization", "status"], name="recurring_occ_org_status_idx")]

    def __str__(self) -> str:
        return f"{self.payment_id}#{self.index}"
