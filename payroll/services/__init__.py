"""Writes for payroll: `<entity>_<action>(*, actor, ...)`, validated and transactional. The maths
is payroll.engine (pure); who may do what is core.permissions (`# --- payroll ---`). Errors are
core.errors domain errors.

One module per part, re-exported here (callers use `payroll.services.<name>`):
- `profiles`: pay profiles, withholding tables (versions by effective date, the documented example);
- `periods`: payroll periods (create with their draft payslips, update, cancel, delete);
- `payslips`: payslip figures, drafts, edits, approval;
- `processing`: processing a period / paying one payslip (routes each payslip to its payment);
- `payments`: bank and cash payments by reference, and the payroll journal entries;
- `crypto_payouts`: crypto payslips paid on chain exactly once (wallets.transfers.payout_send),
  settled when the transfer confirms;
- `documents`: the PDF payslip and its email;
- `recurring`: recurring payment schedules and the payment of their due occurrences.
"""

from payroll.services.common import payroll_settings_get
from payroll.services.documents import payslip_pdf, payslip_send
from payroll.services.crypto_payouts import crypto_payouts_settle, payroll_payouts_reconcile
from payroll.services.processing import payroll_period_process, payslip_payment_process
from payroll.services.payslips import payslip_approve, payslip_compute, payslip_create, payslip_update
from payroll.services.periods import payroll_period_create, payroll_period_delete, payroll_period_update
from payroll.services.profiles import (pay_profile_set, withholding_example_install, withholding_table_create,
                                       withholding_table_in_force)
from payroll.services.recurring import recurring_payment_create, recurring_payment_set_active, recurring_payments_pay

__all__ = [
    "crypto_payouts_settle", "payroll_payouts_reconcile", "pay_profile_set", "payroll_period_create", "payroll_period_delete", "payroll_period_process",
    "payroll_period_update", "payroll_settings_get", "payslip_approve", "payslip_compute", "payslip_create",
    "payslip_payment_process", "payslip_pdf", "payslip_send", "payslip_update", "recurring_payment_create",
    "recurring_payment_set_active", "recurring_payments_pay", "withholding_example_install", "withholding_table_create",
    "withholding_table_in_force",
]
