"""Issue 19 item 6: data problems are visible, not blocking.

(a) At input, a BUY / SELL / INCOME / EXPENSE the books cannot value is refused with 422
    transaction_not_valued (wallets.services.transactions: its docstring has the rule); a stored
    price of the asset on or before the transaction's day is enough.
(b) The journal sync books everything else of the organization when one trade cannot be booked,
    records the problem per trade (ledger.models.BookingProblem), lists it on /app/ledger/review/
    for books roles, and clears it once the row is fixed and books again."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils.html import escape

from accounts.models import Role
from ledger.models import BookingProblem, EntryStatus, JournalEntry
from ledger.tax_trades import tax_trades_for
from ledger.transaction_journals import transaction_journals_sync
from wallets.models import Cryptocurrency, PriceQuote, Transaction, Wallet

pytestmark = pytest.mark.django_db
D = Decimal
UTC = dt.UTC


def _day(n: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, n, hour, tzinfo=UTC)


@pytest.fixture
def books(make_user, organization):
    """A manager's wallet in the main organization, and a way to store rows directly (as old data,
    bypassing the input validation)."""
    manager = make_user(role=Role.MANAGER)
    eth = Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ether"})[0]
    wallet = Wallet.objects.create(name="hot", address="0x" + "a1" * 20, user=manager, organization=organization,
                                   wallet_type="MetaMask", slot=1)

    def store(transaction_type, amount, day, usd_value=None, **fields):
        return Transaction.objects.create(
            transaction_type=transaction_type, user=manager, organization=organization, wallet=wallet,
            cryptocurrency=eth, amount=D(amount), usd_value=None if usd_value is None else D(usd_value),
            transaction_date=_day(day), source="manual", status="CONFIRMED", **fields)

    return manager, wallet, store


def _booked(organization):
    return {e.source_transaction_id: e for e in JournalEntry.objects.for_organization(organization.pk)
            .filter(status=EntryStatus.POSTED, source_key__startswith="auto:")}


# --- (b) the sync --------------------------------------------------------------------------------------

def test_one_bad_row_no_longer_stops_the_sync_and_fixing_it_clears_the_problem(books, organization, client):
    manager, _, store = books
    first = store("BUY", "2", 1, usd_value="4000")
    bad = store("BUY", "1", 2)  # no value, no stored price: the engine cannot cost it
    sale = store("SELL", "1", 3, usd_value="2500")
    income = store("INCOME", "0.5", 4, usd_value="1000", tax_category="staking")

    report = transaction_journals_sync(organization=organization)
    assert report.error == "" and report.created == 3
    assert set(_booked(organization)) == {first.pk, sale.pk, income.pk}
    (problem,) = BookingProblem.objects.for_organization(organization.pk)
    assert (problem.trade_key, problem.transaction_id) == (f"tx:{bad.pk}", bad.pk)
    assert problem.reason.startswith("No value in USD: give its price") and "sent_amount" in problem.reason
    assert problem.first_seen == problem.last_seen
    assert report.problems == [f"tx:{bad.pk}: {problem.reason}"]

    # Met again: one row, first_seen kept, last_seen moves.
    transaction_journals_sync(organization=organization)
    again = BookingProblem.objects.get(pk=problem.pk)
    assert again.first_seen == problem.first_seen and again.last_seen >= problem.last_seen
    assert BookingProblem.objects.for_organization(organization.pk).count() == 1

    # Books roles see it on the review page, linked from the trial balance.
    client.force_login(manager)
    page = client.get("/app/ledger/review/")
    assert page.status_code == 200 and f'data-transaction="{bad.pk}"' in page.content.decode()
    assert escape(problem.reason) in page.content.decode()
    fragment = client.get("/app/ledger/review/", HTTP_HX_REQUEST="true")
    assert fragment.content.decode().lstrip().startswith('<div id="booking-problems"')
    trial_balance = client.get("/app/ledger/trial-balance/").content.decode()
    assert "/app/ledger/review/" in trial_balance and "1 transaction not booked" in trial_balance

    # Fixing the row (through the service, as a person would) books it and clears the problem.
    from wallets.services import transaction_update

    transaction_update(actor=manager, transaction=Transaction.objects.get(pk=bad.pk),
                       price_at_transaction=D("2100"))
    report = transaction_journals_sync(organization=organization)
    assert report.problems == [] and not BookingProblem.objects.for_organization(organization.pk).exists()
    assert bad.pk in _booked(organization)
    assert "every transaction is booked" in client.get("/app/ledger/review/").content.decode()


def test_a_sale_of_more_than_held_is_a_problem_and_the_rest_books(books, organization):
    _, _, store = books
    store("BUY", "1", 1, usd_value="2000")
    oversold = store("SELL", "5", 2, usd_value="10000")
    later = store("SELL", "0.5", 3, usd_value="1500")
    report = transaction_journals_sync(organization=organization)
    assert report.error == "" and report.created == 2
    (problem,) = BookingProblem.objects.for_organization(organization.pk)
    assert problem.transaction_id == oversold.pk and "insufficient ETH" in problem.reason
    assert later.pk in _booked(organization)


def test_a_problem_trade_keeps_its_entry_and_a_deleted_one_clears_its_problem(books, organization):
    _, _, store = books
    store("BUY", "1", 1, usd_value="2000")
    sale = store("SELL", "1", 3, usd_value="2500")
    transaction_journals_sync(organization=organization)
    entry = _booked(organization)[sale.pk]
    # Old data: the sale grows past what is held. Its entry stays as booked; the problem is listed.
    Transaction.objects.filter(pk=sale.pk).update(amount=D("3"))
    report = transaction_journals_sync(organization=organization)
    assert report.reversed == 0 and _booked(organization)[sale.pk].pk == entry.pk
    assert BookingProblem.objects.for_organization(organization.pk).get().transaction_id == sale.pk
    # The row is deleted: its entry is reversed and its problem is gone.
    Transaction.objects.filter(pk=sale.pk).delete()
    report = transaction_journals_sync(organization=organization)
    assert report.reversed == 1 and not BookingProblem.objects.for_organization(organization.pk).exists()


def test_problems_are_the_organizations_own(books, organization, make_organization, make_user, client):
    _, _, store = books
    store("BUY", "1", 2)
    transaction_journals_sync(organization=organization)
    outsider = make_user(role=Role.ADMIN, organization=make_organization("Other"))
    client.force_login(outsider)
    assert "every transaction is booked" in client.get("/app/ledger/review/").content.decode()
    client.force_login(make_user(role=Role.USER))
    assert client.get("/app/ledger/review/").status_code == 403


def test_imported_rows_that_are_no_trade_are_a_problem_not_a_stop(books, organization):
    manager, wallet, store = books
    good = store("BUY", "1", 1, usd_value="2000")
    for part in (1, 2, 3):  # three rows under one import key: not one trade
        store("INCOME", "1", 2, usd_value="100", external_id=f"import:{manager.pk}:row7:{part}")
    with pytest.raises(Exception, match="share it but are not one trade"):
        tax_trades_for(organization)  # the tax reports still refuse such a history
    report = transaction_journals_sync(organization=organization)
    assert set(_booked(organization)) == {good.pk}
    (problem,) = BookingProblem.objects.for_organization(organization.pk)
    assert "not one trade" in problem.reason and report.error == ""


# --- (a) input -----------------------------------------------------------------------------------------

@pytest.fixture
def api(books, access_token_for, client):
    manager, wallet, _ = books
    token = access_token_for(manager)

    def call(method, path, body):
        return getattr(client, method)(path, body, content_type="application/json",
                                       HTTP_AUTHORIZATION=f"Bearer {token}")

    def add(**fields):
        return call("post", "/api/transactions/", {
            "wallet_id": str(wallet.pk), "asset": "ETH", "amount": "1", "transaction_date": "2026-03-05T12:00:00Z",
            **fields})

    return call, add


@pytest.mark.parametrize("transaction_type, tax_category", [
    ("BUY", ""), ("SELL", ""), ("INCOME", ""), ("INCOME", "staking"), ("EXPENSE", ""), ("EXPENSE", "payment")])
def test_a_row_the_books_cannot_value_is_refused_at_input(api, transaction_type, tax_category):
    _, add = api
    response = add(transaction_type=transaction_type, tax_category=tax_category)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "transaction_not_valued" and "price_at_transaction" in error["message"]
    assert error["details"]["day"] == "2026-03-05" and error["details"]["asset"] == "ETH"
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("transaction_type, tax_category", [
    ("TRANSFER", ""), ("EXPENSE", "lost"), ("EXPENSE", "stolen"), ("EXPENSE", "gift"), ("INCOME", "transfer")])
def test_rows_the_engine_moves_at_cost_need_no_value(api, transaction_type, tax_category):
    _, add = api
    assert add(transaction_type=transaction_type, tax_category=tax_category).status_code == 201


def test_a_gift_needs_a_value_where_it_is_a_disposal(api, organization):
    _, add = api
    organization.cost_basis_method = "acb"
    organization.save(update_fields=["cost_basis_method"])
    assert add(transaction_type="EXPENSE", tax_category="gift").status_code == 422


def test_a_price_or_a_stored_price_of_its_day_is_enough(api, organization):
    _, add = api
    assert add(transaction_type="BUY", price_at_transaction="2000").status_code == 201
    PriceQuote.objects.create(symbol="ETH", fiat="USD", day=dt.date(2026, 3, 1), price=D("1900"))
    assert add(transaction_type="SELL", transaction_date="2026-03-05T12:00:00Z").status_code == 201
    # Before the first stored price there is nothing to value it at.
    assert add(transaction_type="BUY", transaction_date="2026-02-27T12:00:00Z").status_code == 422
    # What was accepted, the books can value: the sync (queued by each change) booked it all.
    report = transaction_journals_sync(organization=organization)
    assert report.problems == [] and report.created + report.unchanged == 2 and len(_booked(organization)) == 2


def test_the_stored_price_is_looked_up_on_the_organizations_day(api, organization):
    _, add = api
    organization.time_zone = "Pacific/Auckland"
    organization.save(update_fields=["time_zone"])
    PriceQuote.objects.create(symbol="ETH", fiat="USD", day=dt.date(2026, 3, 2), price=D("1900"))
    # 20:00 UTC on 1 March is 2 March in Auckland: the stored price of that day values it.
    assert add(transaction_type="BUY", transaction_date="2026-03-01T20:00:00Z").status_code == 201
    assert add(transaction_type="BUY", transaction_date="2026-03-01T10:00:00Z").status_code == 422


def test_an_update_that_leaves_a_row_without_value_is_refused(api):
    call, add = api
    row = add(transaction_type="TRANSFER").json()
    response = call("put", f"/api/transactions/{row['id']}/", {"transaction_type": "SELL"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "transaction_not_valued"
    assert call("put", f"/api/transactions/{row['id']}/", {"transaction_type": "SELL",
                                                           "price_at_transaction": "2000"}).status_code == 200
