"""Demo books: the default chart (with a crypto asset account per known asset) and a few entries:
owner's capital, an ETH purchase and a gas fee (posted), a hosting bill (draft). Idempotent: each
entry has a `demo:` source key and is made only if that key is new."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from ledger.models import JournalEntry
from ledger.services import chart_of_accounts_ensure_default, chart_account_get, crypto_asset_account_get_or_create

# (source key, days ago, description, [(chart key or crypto:SYMBOL, debit, credit)], posted)
DEMO_ENTRIES = (
    ("demo:capital", 150, "Owner's capital paid in", [("bank", "50000", "0"), ("equity", "0", "50000")], True),
    ("demo:eth-purchase", 120, "Treasury purchase: 2.5 ETH", [("crypto:ETH", "5776.00", "0"), ("bank", "0", "5776.00")],
     True),
    ("demo:gas", 120, "Gas fee of the treasury purchase", [("gas_fees", "3.42", "0"), ("bank", "0", "3.42")], True),
    ("demo:hosting", 2, "Cloud hosting, December (to be approved)",
     [("general_expenses", "189.90", "0"), ("payables", "0", "189.90")], False),
)


def _account_code(key: str) -> str:
    if key.startswith("crypto:"):
        return crypto_asset_account_get_or_create(symbol=key.split(":", 1)[1]).account_code
    return chart_account_get(key=key).account_code


def load(report) -> None:
    from ledger.services import journal_entry_create

    made = chart_of_accounts_ensure_default()
    if made:
        report.count("ledger accounts", made)
    bookkeeper = User.objects.filter(username="manager").first() or User.objects.filter(is_superuser=True).first()
    if bookkeeper is None:
        report.skip("demo journal entries: no demo manager or superuser to record them")
        return
    existing = set(JournalEntry.objects.filter(source_key__in=[e[0] for e in DEMO_ENTRIES])
                   .values_list("source_key", flat=True))
    today = timezone.localdate()
    for source_key, days_ago, description, lines, post in DEMO_ENTRIES:
        if source_key in existing:
            continue
        # Created and posted in one transaction: a run cut short leaves no half-made entry.
        journal_entry_create(
            created_by=bookkeeper, date=today - dt.timedelta(days=days_ago), description=description,
            source_key=source_key, post=post,
            line_items=[{"account_code": _account_code(key), "debit_amount": Decimal(debit),
                         "credit_amount": Decimal(credit)} for key, debit, credit in lines])
        report.count("posted journal entries" if post else "draft journal entries")
    _book_demo_transactions(report)


def _book_demo_transactions(report) -> None:
    """The automatic journals of the demo users' transactions (idempotent like every sync)."""
    from ledger.transaction_journals import transaction_journals_sync, users_with_transactions

    for user in users_with_transactions():
        result = transaction_journals_sync(user=user)
        if result.created:
            report.count("automatic journal entries", result.created)
        if result.error:
            report.skip(f"automatic journals of {user.username}: {result.error}")
