"""The journal entry pages (issue 11): list with filters and constant-query paging, the line editor
(draft, save and post, errors inline), post, reverse, delete a draft, the organization's calendar,
who may do what and another organization's entries."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from core.models import Organization
from ledger import services
from ledger.models import EntryStatus, JournalEntry

pytestmark = pytest.mark.django_db

ENTRIES = "/app/ledger/entries/"


def lines(amount="100", debit="1110", credit="3100"):
    return [{"account_code": debit, "debit_amount": Decimal(amount)},
            {"account_code": credit, "credit_amount": Decimal(amount)}]


def draft(user, day=dt.date(2026, 3, 1), description="Capital", amount="100"):
    return services.journal_entry_create(created_by=user, date=day, description=description,
                                         line_items=lines(amount))


def editor_post(client, url, *, action="draft", day="2026-03-02", description="Owner's capital", rows=None):
    rows = rows if rows is not None else [("1110", "cash in", "250.50", ""), ("3100", "", "", "250.50")]
    data = {"date": day, "description": description, "reference": "REF-1", "transaction_hash": "", "action": action,
            "line_account": [r[0] for r in rows], "line_description": [r[1] for r in rows],
            "line_debit": [r[2] for r in rows], "line_credit": [r[3] for r in rows],
            "line_asset": ["" for _ in rows], "line_quantity": ["" for _ in rows]}
    return client.post(url, data)


@pytest.fixture
def manager(make_user):
    return make_user(role=Role.MANAGER)


@pytest.fixture
def accountant(make_user):
    return make_user(is_accountant=True)


def test_editor_shows_the_chart_and_saves_a_balanced_draft(client, accountant):
    client.force_login(accountant)
    page = client.get(ENTRIES + "new/")
    html = page.content.decode()
    assert page.status_code == 200 and 'value="1110"' in html and 'id="entry-balance"' in html
    assert 'id="save-and-post"' not in html  # an accountant works drafts, does not post
    response = editor_post(client, ENTRIES + "new/")
    entry = JournalEntry.objects.get(description="Owner's capital")
    assert response.status_code == 302 and response["Location"] == f"{ENTRIES}{entry.pk}/"
    assert entry.status == EntryStatus.DRAFT and entry.total_debit == Decimal("250.50")
    assert [line.account_code for line in entry.line_items] == ["1110", "3100"]
    detail = client.get(f"{ENTRIES}{entry.pk}/").content.decode()
    assert "250.50" in detail and 'id="edit-entry"' in detail and 'id="post-entry"' not in detail


def test_unbalanced_or_broken_input_is_shown_inline_and_saves_nothing(client, accountant):
    client.force_login(accountant)
    unbalanced = editor_post(client, ENTRIES + "new/", rows=[("1110", "", "10", ""), ("3100", "", "", "9")])
    assert unbalanced.status_code == 422 and "Total debits must equal total credits." in unbalanced.content.decode()
    assert 'value="9"' in unbalanced.content.decode()  # what was typed stays in the form
    for rows, message in ([("9999", "", "10", ""), ("3100", "", "", "10")], "No such account: 9999."), \
                         ([("1110", "", "ten", ""), ("3100", "", "", "10")], "Line 1: debit is not a number."):
        answer = editor_post(client, ENTRIES + "new/", rows=rows)
        assert answer.status_code == 422 and message in answer.content.decode()
    bad_day = editor_post(client, ENTRIES + "new/", day="2026-02-30")
    assert bad_day.status_code == 422 and "is not a day" in bad_day.content.decode()
    assert not JournalEntry.objects.exists()


def test_manager_saves_and_posts_then_reverses_and_the_posted_entry_never_changes(client, manager):
    client.force_login(manager)
    response = editor_post(client, ENTRIES + "new/", action="post")
    entry = JournalEntry.objects.get()
    assert response.status_code == 302 and entry.status == EntryStatus.POSTED and entry.entry_id == "JE-2026-000001"
    # a posted entry has no editor: its edit page sends back to the entry
    assert client.get(f"{ENTRIES}{entry.pk}/edit/")["Location"] == f"{ENTRIES}{entry.pk}/"
    assert editor_post(client, f"{ENTRIES}{entry.pk}/edit/").status_code == 302
    entry.refresh_from_db()
    assert entry.description == "Owner's capital" and entry.status == EntryStatus.POSTED
    reversed_answer = client.post(f"{ENTRIES}{entry.pk}/reverse/", {"date": "2026-03-05"})
    assert reversed_answer.status_code == 302
    entry.refresh_from_db()
    reversal = JournalEntry.objects.get(reversal_of=entry)
    assert entry.status == EntryStatus.REVERSED and reversal.entry_id == "JE-2026-000002"
    assert [(l.account_code, l.debit_amount, l.credit_amount) for l in reversal.line_items] == [
        ("1110", Decimal("0"), Decimal("250.50")), ("3100", Decimal("250.50"), Decimal("0"))]
    html = client.get(f"{ENTRIES}{entry.pk}/").content.decode()
    assert 'id="reversal-link"' in html and "JE-2026-000002" in html and 'id="reverse-entry"' not in html
    again = client.post(f"{ENTRIES}{entry.pk}/reverse/")
    assert again.status_code == 409 and "already reversed" in again.content.decode()


def test_post_and_delete_drafts_from_the_detail_page(client, manager):
    client.force_login(manager)
    first, second = draft(manager), draft(manager, description="Second")
    assert client.post(f"{ENTRIES}{first.pk}/post/").status_code == 302
    first.refresh_from_db()
    assert first.status == EntryStatus.POSTED
    assert client.post(f"{ENTRIES}{second.pk}/delete/")["Location"] == ENTRIES
    assert not JournalEntry.objects.filter(pk=second.pk).exists()
    refused = client.post(f"{ENTRIES}{first.pk}/delete/")
    assert refused.status_code == 409 and "only drafts change" in refused.content.decode()


def test_lock_date_refusal_of_save_and_post_keeps_the_draft_and_says_why(client, manager):
    Organization.objects.filter(pk=manager.organization_id).update(lock_date=dt.date(2026, 3, 1))
    client.force_login(manager)
    refused = editor_post(client, ENTRIES + "new/", action="post", day="2026-03-01")
    assert refused.status_code == 409 and "locked" in refused.content.decode().lower()
    assert not JournalEntry.objects.exists()  # creating inside the locked period is refused too


def test_entry_dates_are_the_organizations_days(client, manager):
    Organization.objects.filter(pk=manager.organization_id).update(time_zone="Pacific/Auckland")
    client.force_login(manager)
    editor_post(client, ENTRIES + "new/", day="2026-03-02")
    entry = JournalEntry.objects.get()
    # midnight in Auckland (UTC+13 in March) is the previous day in UTC
    assert entry.date == dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.UTC)
    listing = client.get(ENTRIES).content.decode()
    assert "2026-03-02" in listing and "2026-03-01" not in listing and "Pacific/Auckland" in listing
    assert "2026-03-02" in client.get(f"{ENTRIES}{entry.pk}/").content.decode()
    editor = client.get(f"{ENTRIES}{entry.pk}/edit/").content.decode()
    assert 'value="2026-03-02"' in editor
    # the day filter is the organization's day too
    assert "Owner" in client.get(ENTRIES, {"date_from": "2026-03-02", "date_to": "2026-03-02"}).content.decode()
    assert "Owner" not in client.get(ENTRIES, {"date_to": "2026-03-01"}).content.decode()


def test_list_filters_and_pages_with_a_constant_number_of_queries(client, manager):
    client.force_login(manager)
    for n in range(3):
        services.journal_entry_create(created_by=manager, date=dt.date(2026, 1, 1 + n), description=f"posted {n}",
                                      line_items=lines(), post=True)
    draft(manager, description="a draft")
    only_drafts = client.get(ENTRIES, {"status": "draft"}).content.decode()
    assert "a draft" in only_drafts and "posted 0" not in only_drafts
    with CaptureQueriesContext(connection) as few:
        client.get(ENTRIES)
    for n in range(60):
        draft(manager, day=dt.date(2026, 2, 1), description=f"bulk {n}")
    with CaptureQueriesContext(connection) as many:
        first_page = client.get(ENTRIES).content.decode()
    # Never more with more rows (fewer when no row of the page has, say, a poster to prefetch).
    assert len(many) <= len(few)
    assert first_page.count('class="journal-entry-row"') == 50 and 'id="entries-next"' in first_page
    second = client.get(ENTRIES, {"page": "2"}).content.decode()
    assert second.count('class="journal-entry-row"') == 14 and 'id="entries-next"' not in second
    bad = client.get(ENTRIES, {"date_from": "yesterday"})
    assert bad.status_code == 200 and "is not a day" in bad.content.decode()


def test_who_may_do_what(client, make_user, manager, accountant):
    entry = draft(manager)
    plain = make_user()
    client.force_login(plain)
    for url in (ENTRIES, ENTRIES + "new/", f"{ENTRIES}{entry.pk}/"):
        assert client.get(url).status_code == 403
    client.force_login(accountant)
    assert client.get(f"{ENTRIES}{entry.pk}/").status_code == 200
    assert client.post(f"{ENTRIES}{entry.pk}/post/").status_code == 403
    assert editor_post(client, ENTRIES + "new/", action="post").status_code == 403
    entry.refresh_from_db()
    assert entry.status == EntryStatus.DRAFT


def test_another_organizations_entry_is_not_found(client, make_user, make_organization, manager):
    entry = draft(manager)
    stranger = make_user(role=Role.MANAGER, organization=make_organization("Globex"))
    client.force_login(stranger)
    for method, url in (("get", f"{ENTRIES}{entry.pk}/"), ("get", f"{ENTRIES}{entry.pk}/edit/"),
                        ("post", f"{ENTRIES}{entry.pk}/post/"), ("post", f"{ENTRIES}{entry.pk}/reverse/"),
                        ("post", f"{ENTRIES}{entry.pk}/delete/")):
        assert getattr(client, method)(url).status_code == 404
    assert str(entry.pk) not in client.get(ENTRIES).content.decode()


def test_the_nav_links_the_journal_for_book_keepers(client, accountant, make_user):
    client.force_login(accountant)
    assert re.search(r'href="/app/ledger/entries/"', client.get("/app/wallets/").content.decode())
    client.force_login(make_user())
    assert 'href="/app/ledger/entries/"' not in client.get("/app/wallets/").content.decode()
