"""Invoicing's items on the dashboard (reporting.dashboard.hooks; registered in InvoicingConfig.ready()):
open invoices and overdue ones, for those who may view invoices (core.permissions.can_view_invoices).
A total is given when every counted invoice is in the organization's reporting fiat (amounts of
different currencies are never added)."""

from __future__ import annotations

from django.urls import reverse

from core import permissions
from core.money import ZERO
from core.organizations import organization_today
from invoicing.models import OPEN_STATUSES
from invoicing.selectors import invoice_list_for
from reporting.dashboard.hooks import AwaitingItem

FIELDS = ("total_amount", "amount_paid", "credited_amount", "currency")


def _count_and_total(rows, fiat: str):
    invoices = list(rows.only(*FIELDS))
    total = None
    if all(invoice.currency.upper() == fiat for invoice in invoices):
        total = sum((invoice.amount_due for invoice in invoices), ZERO)
    return len(invoices), total


def invoices_awaiting(actor) -> list[AwaitingItem]:
    if not permissions.can_view_invoices(actor):
        return []
    fiat = actor.organization.reporting_fiat.upper()
    page = reverse("invoice-list")
    open_count, open_total = _count_and_total(invoice_list_for(actor).filter(status__in=OPEN_STATUSES), fiat)
    overdue_count, overdue_total = _count_and_total(
        invoice_list_for(actor, overdue_on=organization_today(actor.organization)), fiat)
    return [AwaitingItem("invoices_open", "Open invoices", open_count, page, open_total),
            AwaitingItem("invoices_overdue", "Overdue invoices", overdue_count, page + "?status=OVERDUE", overdue_total)]
