"""The ledger in the back-office: account tree with rolled-up balances, entries with their lines,
post/reverse actions through the services, read-only posted entries, the lock date (a form on the
organization) for admins only, the trial balance page (HTMX), every page scoped to the viewer's
organization, the sidebar and the demo loader."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import AuditLogEntry, Role
from core.demo import DemoReport
from ledger import demo, services
from core.models import Organization
from ledger.models import FinancialAccount, JournalEntry

pytestmark = pytest.mark.django_db

ENTRIES = "/admin/ledger/journalentry/"
ACCOUNTS = "/admin/ledger/financialaccount/"


def lines(amount="100", debit="1110", credit="3100"):
    return [{"account_code": debit, "debit_amount": Decimal(amount)},
            {"account_code": credit, "credit_amount": Decimal(amount)}]


@pytest.fixture
def manager(make_user, chart):
    return make_user(role=Role.MANAGER)


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def draft(user, **fields):
    return services.journal_entry_create(created_by=user, date=fields.pop("date", dt.date(2026, 3, 1)),
                                         description=fields.pop("description", "Capital"),
                                         line_items=fields.pop("line_items", lines()), **fields)


def test_manager_sees_the_account_tree_with_rolled_up_balances(manager_client, manager):
    services.journal_entry_create(created_by=manager, date=dt.date(2026, 3, 1), description="c",
                                  line_items=lines("1234.5"), post=True)
    page = manager_client.get(ACCOUNTS)
    assert page.status_code == 200
    rows = list(page.context["cl"].result_list)
    codes = [account.account_code for account in rows]
    assert codes.index("1000") < codes.index("1100") < codes.index("1110") < codes.index("1200")
    by_code = {account.account_code: account for account in rows}
    assert by_code["1000"].tree["rolled_up_balance"] == Decimal("1234.5")
    assert by_code["1000"].tree["balance"] == 0 and by_code["1110"].tree["level"] == 2
    html = page.content.decode()
    assert "Rolled-up balance" in html and "padding-left:3.0rem" in html


def test_the_admin_applies_the_chart_rules(manager_client, manager):
    response = manager_client.post(f"{ACCOUNTS}add/", {"account_code": "1150", "account_name": "Petty cash",
                                                       "account_type": "asset", "parent_account": "2000",
                                                       "currency": "USD", "is_active": "on"}, follow=True)
    assert not FinancialAccount.objects.filter(account_code="1150").exists()
    assert any("cannot sit under" in str(m) for m in response.context["messages"])
    assets = FinancialAccount.objects.get(account_code="1000")
    response = manager_client.post(f"{ACCOUNTS}{assets.pk}/change/", {
        "account_name": "Assets", "account_type": "asset", "parent_account": "1110", "currency": "USD",
        "is_active": "on"}, follow=True)
    assert FinancialAccount.objects.get(account_code="1000").parent_account == ""
    assert any("cycle" in str(m) for m in response.context["messages"])


def test_manager_opens_entries_and_posts_with_the_action(manager_client, manager):
    entry = draft(manager)
    page = manager_client.get(ENTRIES)
    assert page.status_code == 200 and "(draft)" in page.content.decode()
    detail = manager_client.get(f"{ENTRIES}{entry.pk}/change/").content.decode()
    assert "1110" in detail and "3100" in detail and 'name="_save"' in detail  # a draft is editable
    response = manager_client.post(ENTRIES, {"action": "post_entries", "_selected_action": [str(entry.pk)]},
                                   follow=True)
    assert response.status_code == 200
    entry.refresh_from_db()
    assert entry.status == "posted" and entry.entry_id == "JE-2026-000001" and entry.posted_by == manager
    posted_page = manager_client.get(f"{ENTRIES}{entry.pk}/change/").content.decode()
    assert 'name="_save"' not in posted_page and "JE-2026-000001" in posted_page
    refused = manager_client.post(f"{ENTRIES}{entry.pk}/change/", {"description": "changed", "date_0": "2026-03-01",
                                                                  "date_1": "00:00:00", "reference": ""})
    assert refused.status_code == 403 and JournalEntry.objects.get(pk=entry.pk).description == "Capital"
    assert manager_client.post(f"{ENTRIES}{entry.pk}/delete/", {"post": "yes"}).status_code == 403


def test_action_errors_are_admin_messages(manager_client, manager):
    entry = draft(manager)
    response = manager_client.post(ENTRIES, {"action": "reverse_entries", "_selected_action": [str(entry.pk)]},
                                   follow=True)
    assert any("draft is not in the books" in str(m) for m in response.context["messages"])
    services.journal_entry_post(entry=entry, actor=manager)
    manager_client.post(ENTRIES, {"action": "reverse_entries", "_selected_action": [str(entry.pk)]})
    assert JournalEntry.objects.get(pk=entry.pk).status == "reversed" and JournalEntry.objects.count() == 2


def test_a_draft_is_edited_through_the_service_in_the_admin(manager_client, manager):
    entry = draft(manager)
    response = manager_client.post(f"{ENTRIES}{entry.pk}/change/", {
        "date_0": "2026-03-02", "date_1": "10:00:00", "description": "Capital, corrected", "reference": "R-1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry.refresh_from_db()
    assert (entry.description, entry.reference, entry.status) == ("Capital, corrected", "R-1", "draft")
    assert len(entry.line_items) == 2


def test_plain_users_do_not_get_the_ledger_admin(client, make_user, chart):
    user = make_user(role=Role.USER)
    type(user).objects.filter(pk=user.pk).update(is_staff=True)  # even with the staff flag set by mistake
    user.refresh_from_db()
    client.force_login(user)
    for url in (ENTRIES, ACCOUNTS, LOCK_DATE):  # sent away from the admin (config/admin_site.py), never shown
        response = client.get(url)
        assert response.status_code in (302, 403) and "1110" not in response.content.decode(), url
        assert not response.get("Location", "").startswith("/admin/ledger/"), url


LOCK_DATE = "/admin/ledger/lockdate/"


def test_lock_date_is_a_form_on_the_organization_editable_by_admins_only(client, make_user, chart,
                                                                          make_organization):
    admin_user = make_user(role=Role.ADMIN)
    manager = make_user(role=Role.MANAGER)
    other = make_organization("Other")
    client.force_login(admin_user)
    assert client.get(LOCK_DATE)["Location"] == f"{LOCK_DATE}{chart.pk}/change/"  # straight to their own
    response = client.post(f"{LOCK_DATE}{chart.pk}/change/", {"lock_date": "2026-03-31"})
    assert response.status_code == 302
    chart.refresh_from_db()
    assert chart.lock_date == dt.date(2026, 3, 31)
    assert AuditLogEntry.objects.filter(action="ledger_lock_date_set", actor=admin_user).count() == 1
    # Another organization's lock date: not found (the admin redirects, nothing changes).
    client.post(f"{LOCK_DATE}{other.pk}/change/", {"lock_date": "2026-12-31"})
    assert Organization.objects.get(pk=other.pk).lock_date is None
    client.force_login(manager)
    change_url = f"{LOCK_DATE}{chart.pk}/change/"
    assert 'name="_save"' not in client.get(change_url).content.decode()
    assert client.post(change_url, {"lock_date": "2026-12-31"}).status_code == 403
    assert Organization.objects.get(pk=chart.pk).lock_date == dt.date(2026, 3, 31)


def test_the_admin_shows_only_the_organizations_books(manager_client, manager, make_user, make_organization):
    other = make_organization("Other")
    outsider = make_user(role=Role.MANAGER, organization=other)
    their_entry = draft(outsider, description="their secret")
    mine = draft(manager, description="ours")
    their_account = FinancialAccount.objects.get(organization=other, account_code="1110")
    entries = manager_client.get(ENTRIES).content.decode()
    assert "ours" in entries and "their secret" not in entries
    accounts = manager_client.get(ACCOUNTS)
    assert {a.organization_id for a in accounts.context["cl"].result_list} == {manager.organization_id}
    for url in (f"{ENTRIES}{their_entry.pk}/change/", f"{ACCOUNTS}{their_account.pk}/change/"):
        response = manager_client.get(url)
        assert response.status_code == 302 and "their secret" not in response.content.decode(), url
    manager_client.post(ENTRIES, {"action": "post_entries", "_selected_action": [str(their_entry.pk)]})
    assert JournalEntry.objects.get(pk=their_entry.pk).status == "draft"
    assert JournalEntry.objects.get(pk=mine.pk).status == "draft"


def test_trial_balance_page_swaps_its_table_for_an_as_of_day(manager_client, manager):
    services.journal_entry_create(created_by=manager, date=dt.date(2026, 1, 5), description="a",
                                  line_items=lines("1000"), post=True)
    services.journal_entry_create(created_by=manager, date=dt.date(2026, 2, 5), description="b",
                                  line_items=lines("25.5", "5100", "1110"), post=True)
    page = manager_client.get("/app/ledger/trial-balance/")
    html = page.content.decode()
    assert page.status_code == 200 and 'hx-get="/app/ledger/trial-balance/"' in html and 'type="date"' in html
    assert "1,000.00" in html and "974.50" in html  # cash after the expense
    fragment = manager_client.get("/app/ledger/trial-balance/?as_of=2026-01-31", HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert text.lstrip().startswith('<div id="trial-balance"') and "<html" not in text
    assert "5100" not in text and "1,000.00" in text
    bad = manager_client.get("/app/ledger/trial-balance/?as_of=soon").content.decode()
    assert "is not a day" in bad


def test_trial_balance_page_is_for_those_who_view_the_books(client, make_user, chart, make_organization):
    client.force_login(make_user(role=Role.USER))
    assert client.get("/app/ledger/trial-balance/").status_code == 403
    manager = make_user(role=Role.MANAGER)
    services.journal_entry_create(created_by=manager, date=dt.date(2026, 1, 5), description="a",
                                  line_items=lines("777"), post=True)
    client.force_login(make_user(role=Role.USER, is_accountant=True))
    assert "777.00" in client.get("/app/ledger/trial-balance/").content.decode()
    client.force_login(make_user(role=Role.ADMIN, organization=make_organization("Other")))
    page = client.get("/app/ledger/trial-balance/")
    assert page.status_code == 200 and "777.00" not in page.content.decode()  # their own (empty) books


def test_the_books_section_is_in_the_sidebar(manager_client):
    html = manager_client.get("/admin/").content.decode()
    assert "Books" in html
    for link in (ACCOUNTS, ENTRIES, "/app/ledger/trial-balance/", LOCK_DATE):
        assert f'href="{link}"' in html, link


def test_demo_loader_books_the_company_and_is_idempotent(make_user, chart, make_organization):
    from wallets.models import Cryptocurrency

    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    manager = make_user(role=Role.MANAGER, username="manager")
    client_books = make_organization("Outside client")
    report = DemoReport()
    demo.load(report)
    assert report.created["posted journal entries"] == 1 and report.created["draft journal entries"] == 1
    assert not JournalEntry.objects.exclude(organization=manager.organization).exists()
    counts = (FinancialAccount.objects.count(), JournalEntry.objects.count())
    again = DemoReport()
    demo.load(again)
    assert again.created == {} and (FinancialAccount.objects.count(), JournalEntry.objects.count()) == counts
    from ledger.selectors import trial_balance

    company = trial_balance(organization_id=chart.pk)
    # Capital paid in (50,000) and the hosting draft (not booked): the crypto trades are the journal
    # sync's, from the demo's transactions, never booked a second time by hand.
    assert company["is_balanced"] and company["total_debit"] == Decimal("50000.00")
    outside = trial_balance(organization_id=client_books.pk)
    assert outside["is_balanced"] and outside["total_debit"] == 0
