"""Huey tasks of payroll: the crypto payouts' catch-up and the recurring payments (each exactly once
by its intent keys and conditional writes; the locks only keep two workers from one pass at once)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from payroll.services import payroll_payouts_reconcile, recurring_payments_pay


@db_periodic_task(crontab(minute="*"))
@lock_task("payroll-payouts")
def payroll_payouts():
    """Every minute: send crypto payslips a crash left unsent (their stored intent), and mark paid (or
    failed) those whose transfer the chain settled (payroll.services.crypto_payouts)."""
    return payroll_payouts_reconcile()


@db_periodic_task(crontab(minute="*/5"))
@lock_task("payroll-recurring")
def recurring_payments():
    """Every 5 minutes: pay each due occurrence of the active recurring payments once (claimed with the
    schedule's counters in one transaction, paid through the exactly-once payout; missed ones after
    downtime paid once each, or skipped by the organization's setting), and settle sent ones."""
    return recurring_payments_pay()
