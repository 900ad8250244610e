"""Demo books: the company's (the organization of the `manager` demo user) default chart (made when
the organization was created) and a few entries: owner's capital, an ETH purchase and a gas fee
(posted), a hosting bill (draft). Then the automatic journals of every organization with
transactions (the company, and the outside client's own books), each in its own books, so each
organization's trial balance balances. Idempotent: each entry has a `demo:` source key and is made
only if that key is new in the company's books."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from accounts.models import User
from core.organizations import organization_today
from ledger.models import JournalEntry
from ledger.services import (
    chart_account_get,
    chart_of_accounts_ensure_default,
    journal_entry_create,
)
from ledger.transaction_journals import organizations_with_transactions, transaction_journals_sync

# (source key, days ago, description, [(chart key, debit, credit)], posted). The crypto
# trades are booked from the demo's transactions by the journal sync, never by hand (no second copy).
DEMO_ENTRIES = (
    ("demo:capital", 150, "Owner's capital paid in", [("bank", "50000", "0"), ("equity", "0", "50000")], True),
    ("demo:hosting", 2, "Cloud hosting, December (to be approved)",
     [("general_expenses", "189.90", "0"), ("payables", "0", "189.90")], False),
)


def _account_code(key: str, organization_id) -> str:
    return chart_account_get(key=key, organization_id=organization_id).account_code


def load(report) -> None:
    bookkeeper = User.objects.filter(username="manager").first()
    if bookkeeper is None or bookkeeper.organization_id is None:
        report.skip("demo journal entries: no demo manager (in an organization) to record them")
        return
    organization_id = bookkeeper.organization_id
    made = chart_of_accounts_ensure_default(organization_id=organization_id)
    if made:
        report.count("ledger accounts", made)
    existing = {e.source_key for e in JournalEntry.objects.for_organization(organization_id)
                .filter(source_key__in=[e[0] for e in DEMO_ENTRIES]).only("source_key")}
    today = organization_today(bookkeeper.organization)
    for source_key, days_ago, description, lines, post in DEMO_ENTRIES:
        if source_key in existing:
            continue
        # Created and posted in one transaction: a run cut short leaves no half-made entry.
        journal_entry_create(
            created_by=bookkeeper, date=today - dt.timedelta(days=days_ago), description=description,
            source_key=source_key, post=post,
            line_items=[{"account_code": _account_code(key, organization_id), "debit_amount": Decimal(debit),
                         "credit_amount": Decimal(credit)} for key, debit, credit in lines])
        report.count("posted journal entries" if post else "draft journal entries")
    _book_demo_transactions(report)


def _book_demo_transactions(report) -> None:
    """The automatic journals of every organization's demo transactions (idempotent like every sync)."""
    for organization in organizations_with_transactions():
        result = transaction_journals_sync(organization=organization)
        if result.created:
            report.count("automatic journal entries", result.created)
        if result.error:
            report.skip(f"automatic journals of {organization.name}: {result.error}")
