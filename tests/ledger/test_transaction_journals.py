"""Automatic journals on the real database: one posted entry per transaction, idempotent, corrected
by reversal + new entry when a transaction (or the cost basis under it) changes, locked periods kept."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from ledger.models import EntryStatus, JournalEntry
from ledger.selectors import trial_balance
from ledger.transaction_journals import transaction_journals_sync

pytestmark = pytest.mark.django_db


def _balance(system_key):
    from ledger.models import FinancialAccount
    from ledger.selectors import account_balances

    account = FinancialAccount.objects.get(system_key=system_key)
    return account_balances([account])[account.account_code]["balance"]


def _posted():
    return JournalEntry.objects.filter(status=EntryStatus.POSTED, source_key__startswith="auto:")


def test_import_books_one_entry_per_trade(taxpayer):
    entries = list(_posted().order_by("date"))
    # 7 rows: 2 buys, a sell, a swap, staking income, 2 sells (the import queued the sync).
    assert len(entries) == 7
    assert all(e.total_debit == e.total_credit and e.entry_id.startswith("JE-") for e in entries)
    assert [e.description for e in entries][:4] == ["Buy 1 BTC", "Buy 1 BTC", "Sell 1.5 BTC", "Swap 0.5 BTC for 10 ETH"]
    assert entries[3].source_transaction.user == taxpayer and entries[3].transaction_hash == ""
    # FIFO, worked in tests/reporting/test_tax_report_command.py: gains 24,960 + 19,970 + 1,000,
    # losses 1,000; staking income 2,500.
    assert _balance("realised_gains") == Decimal("45930")
    assert _balance("realised_losses") == Decimal("1000")
    assert _balance("crypto_income") == Decimal("2500")
    # BTC all gone; ETH left: 10 - 0.01 + 1 - 5 - 1 = 4.99 at 3,000 and 1 at 2,500 - FIFO took 6 at 3,000.
    assert _balance("crypto:BTC") == 0
    assert _balance("crypto:ETH") == Decimal("3.99") * 3000 + 2500
    balance = trial_balance()
    assert balance["total_debit"] == balance["total_credit"]


def test_a_second_sync_writes_nothing(taxpayer):
    before = JournalEntry.objects.count()
    report = transaction_journals_sync(user=taxpayer)
    assert (report.created, report.reversed, report.unchanged, report.error) == (0, 0, 7, "")
    assert JournalEntry.objects.count() == before


def test_a_changed_label_is_corrected_by_reversal_and_a_new_entry(taxpayer):
    from wallets.models import Transaction

    income = Transaction.objects.get(user=taxpayer, transaction_type="INCOME")
    Transaction.objects.filter(pk=income.pk).update(transaction_type="TRANSFER", direction="in", tax_category="")
    report = transaction_journals_sync(user=taxpayer)
    assert (report.created, report.reversed, report.unchanged) == (1, 1, 6)
    old = JournalEntry.objects.get(source_key__endswith="#1", source_transaction=income)
    new = JournalEntry.objects.get(source_key__endswith="#2", source_transaction=income)
    assert old.status == EntryStatus.REVERSED and old.reversal_entry.reversal_of_id == old.pk
    assert new.description == "Received 1 ETH" and new.status == EntryStatus.POSTED
    assert _balance("crypto_income") == 0 and _balance("equity") == Decimal("2500")


def test_an_earlier_cost_change_rebooks_the_later_disposals(taxpayer):
    from wallets.models import Transaction

    first = Transaction.objects.filter(user=taxpayer, transaction_type="BUY").order_by("transaction_date").first()
    Transaction.objects.filter(pk=first.pk).update(usd_value=Decimal("8000"), total_cost_usd=Decimal("8010"))
    report = transaction_journals_sync(user=taxpayer)
    # The buy itself and the June 2024 sell that used it change; nothing else does.
    assert (report.created, report.reversed) == (2, 2)
    assert _balance("realised_gains") == Decimal("45930") + 2000


def test_locked_periods_are_left_alone(taxpayer, make_user):
    from ledger.services import ledger_lock_date_set
    from wallets.models import Transaction

    ledger_lock_date_set(actor=make_user(role="ADMIN"), lock_date=dt.date(2024, 12, 31))
    first = Transaction.objects.filter(user=taxpayer, transaction_type="BUY").order_by("transaction_date").first()
    Transaction.objects.filter(pk=first.pk).update(usd_value=Decimal("8000"), total_cost_usd=Decimal("8010"))
    report = transaction_journals_sync(user=taxpayer)
    assert report.created == 0 and len(report.locked) == 2
    assert _balance("realised_gains") == Decimal("45930")


def test_an_unmatchable_history_books_nothing_and_says_why(taxpayer):
    from wallets.models import Transaction

    Transaction.objects.filter(user=taxpayer, transaction_type="BUY", transaction_date__year=2024).delete()
    before = JournalEntry.objects.count()
    report = transaction_journals_sync(user=taxpayer)
    assert "insufficient BTC" in report.error and JournalEntry.objects.count() == before
    with pytest.raises(CommandError, match="could not be synced"):
        call_command("sync_journals", "--user", "taxpayer", stdout=io.StringIO(), stderr=io.StringIO())


def test_deleted_transactions_have_their_entries_reversed(taxpayer):
    from wallets.models import Transaction

    last = Transaction.objects.filter(user=taxpayer).order_by("-transaction_date").first()
    Transaction.objects.filter(pk=last.pk).delete()
    report = transaction_journals_sync(user=taxpayer)
    assert (report.created, report.reversed, report.unchanged) == (0, 1, 6)
    assert _balance("realised_losses") == 0


def test_command_and_other_users(taxpayer, make_user):
    other = make_user()
    out = io.StringIO()
    call_command("sync_journals", stdout=out, stderr=io.StringIO())
    assert "taxpayer: 0 created, 0 reversed, 7 unchanged" in out.getvalue()
    assert transaction_journals_sync(user=other).created == 0
    with pytest.raises(CommandError, match="no user"):
        call_command("sync_journals", "--user", "ghost", stdout=io.StringIO())


def test_editing_through_the_api_rebooks_the_entry(taxpayer, client, access_token_for):
    from wallets.models import Transaction

    income = Transaction.objects.get(user=taxpayer, transaction_type="INCOME")
    response = client.put(f"/api/transactions/{income.pk}/", {"tax_category": "airdrop"},
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {access_token_for(taxpayer)}")
    assert response.status_code == 200, response.content
    booked = JournalEntry.objects.get(source_transaction=income, status=EntryStatus.POSTED, reversal_of=None)
    assert booked.description == "Airdrop 1 ETH" and booked.source_key.endswith("#2")
    first = JournalEntry.objects.get(source_transaction=income, status=EntryStatus.REVERSED)
    assert first.source_key.endswith("#1") and first.reversal_entry.description.startswith("Automatic correction")
