"""Huey tasks of invoicing: settling invoices from the chain monitor's recorded transfers, the
overdue sweep and the overdue reminders (each exactly-once by its own keys and conditional writes;
the locks only keep two workers from doing the same pass at once)."""

from core.scheduling import cron, periodic_job
from invoicing.services import invoices_mark_overdue, invoices_settle_transfers
from invoicing.services.documents import invoices_send_reminders


@periodic_job("invoices_settle", cron(minute="*"),
              description="Match confirmed incoming transfers to open invoices.")
def invoices_settle():
    """Every minute: match confirmed incoming transfers to open invoices (invoicing.services.payments)."""
    return invoices_settle_transfers().as_dict()


@periodic_job("invoices_overdue", cron(minute="7"),
              description="Open invoices past their due date become overdue.")
def invoices_overdue():
    """Every hour: open invoices past their due date become OVERDUE (their creator is notified)."""
    return invoices_mark_overdue()


@periodic_job("invoices_reminders", cron(minute="17", hour="8"),
              description="Email a reminder for each overdue invoice, at most once per interval.")
def invoices_reminders():
    """Every day at 08:17: email a reminder for each overdue invoice, at most once per interval."""
    return invoices_send_reminders()
