"""Huey tasks of invoicing: settling invoices from the chain monitor's recorded transfers, the
overdue sweep and the overdue reminders (each exactly-once by its own keys and conditional writes;
the locks only keep two workers from doing the same pass at once)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from invoicing.services import invoices_mark_overdue, invoices_settle_transfers
from invoicing.services.documents import invoices_send_reminders


@db_periodic_task(crontab(minute="*"))
@lock_task("invoices-settle")
def invoices_settle():
    """Every minute: match confirmed incoming transfers to open invoices (invoicing.services.payments)."""
    return invoices_settle_transfers().as_dict()


@db_periodic_task(crontab(minute="7"))
@lock_task("invoices-overdue")
def invoices_overdue():
    """Every hour: open invoices past their due date become OVERDUE (their creator is notified)."""
    return invoices_mark_overdue()


@db_periodic_task(crontab(minute="17", hour="8"))
@lock_task("invoices-reminders")
def invoices_reminders():
    """Every day at 08:17: email a reminder for each overdue invoice, at most once per interval."""
    return invoices_send_reminders()
