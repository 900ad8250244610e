"""The transactions drawer's books panel (issue 11): the journal entry that books a transaction
(number, status, lines, link) and, for a disposal, its proceeds, cost basis and gain: the same figures
as the tax report (reporting.selectors.tax_summary_for); for an acquisition, its open lot. Only for
those who may view the books; another organization's transaction is a 404."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from accounts.models import Role
from core.templatetags.money import fiat
from ledger.models import EntryStatus, JournalEntry
from ledger.transaction_journals import transaction_journals_sync
from reporting.selectors import tax_summary_for
from wallets.imports import transactions_import_universal
from wallets.models import Transaction

pytestmark = pytest.mark.django_db

HEADER = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
          "Net Worth Amount,Net Worth Currency,Label,Description,TxHash")
HISTORY = "\n".join([
    HEADER,
    "2025-01-10 10:00:00,1000,USD,0.5,ETH,,,,,,Bought ETH,0xaaa",
    "2025-02-01 09:30:00,0.2,ETH,700,USD,,,,,,Sold some,0xbbb",
]) + "\n"


@pytest.fixture
def books(make_user):
    manager = make_user(role=Role.MANAGER)
    transactions_import_universal(user=manager, text=HISTORY)
    report = transaction_journals_sync(organization=manager.organization)  # booked (again: nothing to add)
    assert not report.error and report.created + report.unchanged == 2
    buy = Transaction.objects.get(hash="0xaaa")
    sell = Transaction.objects.get(hash="0xbbb")
    return manager, buy, sell


def panel(client, tx):
    return client.get(f"/app/ledger/transactions/{tx.pk}/books/", HTTP_HX_REQUEST="true")


def test_the_drawer_loads_the_books_panel_for_books_roles_only(client, books, make_user):
    manager, buy, _ = books
    client.force_login(manager)
    drawer = client.get(f"/app/transactions/{buy.pk}/").content.decode()
    assert f'hx-get="/app/ledger/transactions/{buy.pk}/books/"' in drawer
    member = make_user()
    client.force_login(member)
    assert panel(client, buy).status_code in (403, 404)


def test_a_disposal_shows_its_entry_and_the_tax_reports_cost_basis_and_gain(client, books):
    manager, _, sell = books
    client.force_login(manager)
    response = panel(client, sell)
    html = response.content.decode()
    assert response.status_code == 200
    entry = JournalEntry.objects.get(source_transaction=sell, status=EntryStatus.POSTED)
    assert entry.entry_id and entry.entry_id in html and f'href="/app/ledger/entries/{entry.pk}/"' in html
    assert "Posted" in html
    for line in entry.line_items:  # every line of the entry, with its account
        assert line.account_code in html
    summary = tax_summary_for(manager.organization, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    [disposal] = summary.disposals
    assert disposal.gain == Decimal("300")  # 700 - 0.2 * 2000
    shown = dict(re.findall(r'data-field="(proceeds|cost_basis|gain)">([^<]+)<', html))
    assert shown == {"proceeds": fiat(disposal.proceeds, "USD"), "cost_basis": fiat(disposal.cost_basis, "USD"),
                     "gain": fiat(disposal.gain, "USD")}
    assert 'id="books-open-lots"' not in html


def test_an_acquisition_shows_its_open_lot(client, books):
    manager, buy, _ = books
    client.force_login(manager)
    html = panel(client, buy).content.decode()
    entry = JournalEntry.objects.get(source_transaction=buy, status=EntryStatus.POSTED)
    assert entry.entry_id in html and 'id="books-open-lots"' in html
    shown = dict(re.findall(r'data-field="(lot_quantity|lot_cost)">([^<]+)<', html))
    assert shown["lot_quantity"].startswith("0.3") and shown["lot_cost"] == fiat(Decimal("600"), "USD")
    assert 'id="books-disposals"' not in html


def test_a_pending_or_unbooked_transaction_says_so(client, books):
    manager, buy, _ = books
    client.force_login(manager)
    Transaction.objects.filter(pk=buy.pk).update(status="PENDING")
    html = panel(client, buy).content.decode()
    assert 'id="books-not-counted"' in html and "not in the books" in html


def test_another_organizations_transaction_is_404(client, books, make_user, make_organization):
    _, buy, _ = books
    stranger = make_user(role=Role.MANAGER, organization=make_organization("Globex"))
    client.force_login(stranger)
    assert panel(client, buy).status_code == 404
    assert client.get("/app/ledger/transactions/0123456789abcdef01234567/books/").status_code == 404


def test_login_required(client, books):
    _, buy, _ = books
    assert panel(client, buy).status_code == 302
