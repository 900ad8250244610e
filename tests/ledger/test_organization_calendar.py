"""The books run on the organization's calendar (`Organization.time_zone`), never the server's: an
entry's day, its number's year at New Year, the lock date, balances and statements as of a day and
the journal sync's lock check all agree with the organization's day. Organizations in
Pacific/Auckland (UTC+13 in January) and America/Los_Angeles (UTC-8) around midnight; UTC
organizations are unchanged."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Role
from core.errors import Conflict, ErrorCode
from core.organizations import (
    organization_day,
    organization_day_end,
    organization_day_start,
    organization_moment,
    organization_today,
    organization_zone,
)
from ledger.models import JournalEntry
from ledger.selectors import journal_entry_list_for, trial_balance
from ledger.services import journal_entry_create, ledger_lock_date_set
from ledger.transaction_journals import transaction_journals_sync
from tests.ledger.conftest import entry_body

pytestmark = pytest.mark.django_db
UTC = dt.UTC
D = Decimal
AUCKLAND, LOS_ANGELES = "Pacific/Auckland", "America/Los_Angeles"


class _Org:
    def __init__(self, time_zone):
        self.time_zone = time_zone


def test_the_calendar_functions():
    kiwi, la, utc = _Org(AUCKLAND), _Org(LOS_ANGELES), _Org("UTC")
    # 1 January in Auckland starts at 11:00 UTC on 31 December (NZDT, +13); in LA at 08:00 UTC (PST, -8).
    assert organization_day_start(kiwi, dt.date(2025, 1, 1)) == dt.datetime(2024, 12, 31, 11, tzinfo=UTC)
    assert organization_day_start(la, dt.date(2025, 1, 1)) == dt.datetime(2025, 1, 1, 8, tzinfo=UTC)
    assert organization_day_end(utc, dt.date(2025, 1, 1)) == dt.datetime(2025, 1, 2, tzinfo=UTC)
    moment = dt.datetime(2024, 12, 31, 11, 30, tzinfo=UTC)
    assert (organization_day(kiwi, moment), organization_day(la, moment), organization_day(utc, moment)) == (
        dt.date(2025, 1, 1), dt.date(2024, 12, 31), dt.date(2024, 12, 31))
    assert organization_moment(kiwi, dt.date(2025, 1, 1)) == dt.datetime(2024, 12, 31, 11, tzinfo=UTC)
    assert organization_moment(la, dt.datetime(2024, 12, 31, 23, 30)) == dt.datetime(2025, 1, 1, 7, 30, tzinfo=UTC)
    assert organization_moment(la, moment) is moment
    assert organization_today(kiwi, now=moment) == dt.date(2025, 1, 1)
    assert organization_today(la, now=moment) == dt.date(2024, 12, 31)
    # A midnight skipped by daylight saving (Santiago, 8 September 2024) is the day's first real instant.
    start = organization_day_start(_Org("America/Santiago"), dt.date(2024, 9, 8))
    assert start == dt.datetime(2024, 9, 8, 4, tzinfo=UTC)
    assert organization_zone(_Org("")).key == "UTC" and organization_zone(None).key == "UTC"


@pytest.fixture
def books(make_organization, make_user):
    """books(time_zone) -> (organization, a manager of it, an admin of it)."""

    def make(time_zone):
        organization = make_organization(f"Books in {time_zone}", time_zone=time_zone)
        return (organization, make_user(role=Role.MANAGER, organization=organization),
                make_user(role=Role.ADMIN, organization=organization))

    return make


def _post(manager, date, amount="100"):
    return journal_entry_create(created_by=manager, post=True, **entry_body(amount=amount, date=date))


@pytest.mark.parametrize("time_zone, year", [(AUCKLAND, 2025), (LOS_ANGELES, 2024), ("UTC", 2024)])
def test_an_entrys_day_and_its_numbers_year_are_the_organizations(books, time_zone, year):
    _, manager, _ = books(time_zone)
    # 23:30 UTC on 31 December 2024 is already 1 January 2025 in Auckland, still 31 December in LA.
    entry = _post(manager, dt.datetime(2024, 12, 31, 11, 30, tzinfo=UTC))
    assert entry.entry_id == f"JE-{year}-000001"


@pytest.mark.parametrize("time_zone", [AUCKLAND, LOS_ANGELES, "UTC"])
def test_a_date_only_entry_is_midnight_on_the_organizations_calendar(books, time_zone):
    organization, manager, _ = books(time_zone)
    entry = _post(manager, dt.date(2025, 1, 1))
    entry.refresh_from_db()
    assert entry.date == organization_day_start(organization, dt.date(2025, 1, 1))
    assert organization_day(organization, entry.date) == dt.date(2025, 1, 1)
    assert entry.entry_id == "JE-2025-000001"


@pytest.mark.parametrize("time_zone, allowed, refused", [
    # Lock date 31 December 2024: an entry on the organization's 1 January is open, its 31 December closed.
    (AUCKLAND, dt.datetime(2024, 12, 31, 11, 30, tzinfo=UTC), dt.datetime(2024, 12, 31, 10, 30, tzinfo=UTC)),
    (LOS_ANGELES, dt.datetime(2025, 1, 1, 8, 30, tzinfo=UTC), dt.datetime(2025, 1, 1, 7, 30, tzinfo=UTC)),
    ("UTC", dt.datetime(2025, 1, 1, 0, 30, tzinfo=UTC), dt.datetime(2024, 12, 31, 23, 30, tzinfo=UTC)),
])
def test_the_lock_date_is_a_day_of_the_organizations_calendar(books, time_zone, allowed, refused):
    _, manager, admin = books(time_zone)
    ledger_lock_date_set(actor=admin, lock_date=dt.date(2024, 12, 31))
    assert _post(manager, allowed).entry_id == "JE-2025-000001"
    with pytest.raises(Conflict) as refusal:
        _post(manager, refused)
    assert refusal.value.code == ErrorCode.PERIOD_LOCKED
    assert refusal.value.details == {"lock_date": "2024-12-31", "date": "2024-12-31"}


@pytest.mark.parametrize("time_zone", [AUCKLAND, LOS_ANGELES])
def test_balances_and_statements_as_of_a_day_cut_at_the_organizations_midnight(books, time_zone):
    from reporting.selectors import balance_sheet_for

    organization, manager, _ = books(time_zone)
    day_start = organization_day_start(organization, dt.date(2025, 1, 1))
    _post(manager, day_start - dt.timedelta(minutes=1), amount="100")  # the organization's 31 December
    _post(manager, day_start, amount="7")  # its 1 January, 00:00
    new_years_eve = trial_balance(organization_id=organization.pk, as_of=dt.date(2024, 12, 31))
    new_year = trial_balance(organization_id=organization.pk, as_of=dt.date(2025, 1, 1))
    assert (new_years_eve["total_debit"], new_year["total_debit"]) == (D("100"), D("107"))
    sheet = balance_sheet_for(organization, as_of=dt.date(2024, 12, 31), compare_dates=[dt.date(2025, 1, 1)])
    assert sheet.totals["total_assets"] == [D("100"), D("107")]
    # The entry list's day filter too.
    assert journal_entry_list_for(manager, date_from=dt.date(2025, 1, 1)).count() == 1
    assert journal_entry_list_for(manager, date_to=dt.date(2024, 12, 31)).count() == 1


def test_utc_organizations_are_unchanged(books):
    organization, manager, _ = books("UTC")
    _post(manager, dt.datetime(2024, 12, 31, 23, 59, tzinfo=UTC))
    assert trial_balance(organization_id=organization.pk, as_of=dt.date(2024, 12, 31))["total_debit"] == D("100")
    assert JournalEntry.objects.get(organization=organization).entry_id == "JE-2024-000001"


@pytest.mark.parametrize("time_zone, booked", [(AUCKLAND, True), (LOS_ANGELES, False), ("UTC", False)])
def test_the_journal_syncs_lock_check_is_on_the_organizations_day(books, time_zone, booked):
    from wallets.models import Cryptocurrency, Transaction, Wallet

    organization, manager, admin = books(time_zone)
    eth = Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ether"})[0]
    wallet = Wallet.objects.create(name="hot", address="0x" + "a1" * 20, user=manager, organization=organization,
                                   wallet_type="MetaMask", slot=1)
    # 11:30 UTC on 31 December 2024: 1 January in Auckland (open), 31 December elsewhere (locked).
    Transaction.objects.create(
        transaction_type="BUY", user=manager, organization=organization, wallet=wallet, cryptocurrency=eth,
        amount=D("1"), usd_value=D("3000"), transaction_date=dt.datetime(2024, 12, 31, 11, 30, tzinfo=UTC),
        source="manual", status="CONFIRMED")
    ledger_lock_date_set(actor=admin, lock_date=dt.date(2024, 12, 31))
    report = transaction_journals_sync(organization=organization)
    assert (report.created, len(report.locked)) == ((1, 0) if booked else (0, 1))
    if booked:
        assert JournalEntry.objects.get(organization=organization).entry_id == "JE-2025-000001"
