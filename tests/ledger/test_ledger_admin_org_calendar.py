"""The ledger admin on the organization's calendar (review finding: it showed the server's time
zone), "Add journal entry" opening the back-office line editor, and the booking problems read-only."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from core.models import Organization
from ledger import services
from ledger.models import BookingProblem, JournalEntry

pytestmark = pytest.mark.django_db

ENTRIES = "/admin/ledger/journalentry/"
PROBLEMS = "/admin/ledger/bookingproblem/"


def lines(amount="100"):
    return [{"account_code": "1110", "debit_amount": Decimal(amount)},
            {"account_code": "3100", "credit_amount": Decimal(amount)}]


@pytest.fixture
def manager(make_user, organization):
    Organization.objects.filter(pk=organization.pk).update(time_zone="Pacific/Auckland")
    return make_user(role=Role.MANAGER)


def test_entry_dates_in_the_admin_are_the_organizations_days(client, manager, settings):
    settings.TIME_ZONE = "UTC"
    entry = services.journal_entry_create(created_by=manager, date=dt.date(2026, 3, 2), description="Capital",
                                          line_items=lines())
    assert entry.date == dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.UTC)  # midnight in Auckland
    client.force_login(manager)
    listing = client.get(ENTRIES).content.decode()
    assert "2026-03-02" in listing and "2026-03-01" not in listing
    change = client.get(f"{ENTRIES}{entry.pk}/change/").content.decode()
    assert 'value="2026-03-02"' in change and 'value="00:00:00"' in change
    # a draft's typed date and time are read in the organization's zone too
    response = client.post(f"{ENTRIES}{entry.pk}/change/", {"date_0": "2026-03-05", "date_1": "09:30:00",
                                                            "description": "Capital", "reference": ""})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.date == dt.datetime(2026, 3, 4, 20, 30, tzinfo=dt.UTC)
    assert timezone.get_current_timezone_name() == "UTC"  # nothing leaks into later requests


def test_add_opens_the_line_editor_for_those_who_work_the_books(client, manager, make_user):
    client.force_login(manager)
    response = client.get(f"{ENTRIES}add/")
    assert response.status_code == 302 and response["Location"] == "/app/ledger/entries/new/"
    assert 'href="/admin/ledger/journalentry/add/"' in client.get(ENTRIES).content.decode()
    client.force_login(make_user(role=Role.USER))
    assert client.get(f"{ENTRIES}add/").status_code in (302, 403)
    assert "/app/ledger/entries/new/" not in client.get(f"{ENTRIES}add/").get("Location", "")


def test_booking_problems_are_listed_read_only(client, manager, make_user, make_organization):
    now = timezone.now()
    problem = BookingProblem.objects.create(organization_id=manager.organization_id, trade_key="tx:1",
                                            reason="No fiat value for 1 ETH", first_seen=now, last_seen=now)
    elsewhere = BookingProblem.objects.create(organization=make_organization("Globex"), trade_key="tx:2",
                                              reason="Sold more than held", first_seen=now, last_seen=now)
    client.force_login(manager)
    listing = client.get(PROBLEMS)
    html = listing.content.decode()
    assert listing.status_code == 200 and "No fiat value for 1 ETH" in html and "Sold more than held" not in html
    assert "/app/ledger/review/" in html
    page = client.get(f"{PROBLEMS}{problem.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(f"{PROBLEMS}{problem.pk}/change/", {"reason": "x"}).status_code == 403
    assert client.get(f"{PROBLEMS}add/").status_code == 403
    assert client.post(f"{PROBLEMS}{problem.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"{PROBLEMS}{elsewhere.pk}/change/").status_code == 302  # not found: back to the list
    client.force_login(make_user(role=Role.USER))
    assert client.get(PROBLEMS).status_code in (302, 403)
    assert BookingProblem.objects.filter(pk=problem.pk, reason="No fiat value for 1 ETH").exists()
    assert JournalEntry.objects.count() == 0
