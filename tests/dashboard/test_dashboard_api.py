"""GET /api/dashboard/: the figures come from the same engine and selectors as the portfolio and the
books; scoped to the organization and to what the actor may see."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from reporting.dashboard.hooks import AwaitingItem, awaiting_provider_register, _PROVIDERS
from reporting.dashboard.selectors import dashboard_cache_clear
from reporting.portfolio import portfolio_value_for
from wallets.models import Transaction

pytestmark = pytest.mark.django_db
D = Decimal


def get(client, user, path="/api/dashboard/"):
    client.force_login(user)
    return client.get(path)


def test_figures_are_the_portfolios_and_the_engines(client, books):
    accountant = books["accountant"]
    response = get(client, accountant)
    assert response.status_code == 200, response.content
    body = response.json()
    value = portfolio_value_for(accountant)
    assert body["fiat"] == "USD"
    assert D(body["portfolio"]["total_value"]) == value["total_value"] == D("6000")  # 1.5 ETH at 4000
    assert D(body["pnl"]["unrealized"]) == value["unrealized_gain_loss"] == D("6000") - D("2500")
    assert D(body["pnl"]["realized_ytd"]) == D("1000")  # FIFO: 0.5 of the 1000 lot sold at 3000
    assert body["pnl"]["cost_basis_method"] == "fifo"
    assert D(body["balances"]["crypto_total"]) == D("6000")
    assert [(c["asset"], D(c["quantity"])) for c in body["balances"]["crypto"]] == [("ETH", D("1.5"))]
    assert body["balances"]["cash"] is not None  # books role: the ledger's cash and bank
    assert [w["period"] for w in body["portfolio"]["changes"]] == ["24h", "7d", "30d", "ytd"]
    # This month: two rows (the last-year buy is older) unless the month just began at the year's turn.
    assert body["transactions"]["count"] >= 2 and set(body["transactions"]["by_type"]) >= {"BUY", "SELL"}
    awaiting = {item["key"]: item for item in body["awaiting"]}
    assert awaiting["transactions_unclassified"]["count"] == 3
    assert "journal_entries_draft" in awaiting and "employees_unverified" not in awaiting  # not a manager
    assert len(body["recent_activity"]) >= 3


def test_realised_ytd_follows_the_organizations_method(client, books, organization):
    organization.cost_basis_method = "lifo"
    organization.save(update_fields=["cost_basis_method"])
    books["accountant"].refresh_from_db()
    body = get(client, books["accountant"]).json()
    assert D(body["pnl"]["realized_ytd"]) == D("500")  # LIFO: 0.5 of the 2000 lot sold at 3000


def test_a_plain_member_sees_only_their_own(client, books, make_user):
    member = make_user()
    body = get(client, member).json()
    assert D(body["portfolio"]["total_value"]) == 0 and body["balances"]["cash"] is None
    keys = [item["key"] for item in body["awaiting"]]
    assert keys == ["transactions_unclassified"] and body["awaiting"][0]["count"] == 0
    assert body["recent_activity"] == []


def test_a_manager_sees_employees_awaiting_verification(client, books, make_user):
    manager = make_user(role=Role.MANAGER)
    make_user(manager=manager, is_verified_by_manager=False)
    make_user(manager=manager, is_verified_by_manager=True)
    awaiting = {i["key"]: i["count"] for i in get(client, manager).json()["awaiting"]}
    assert awaiting["employees_unverified"] == 1


def test_another_organization_sees_nothing_of_acme(client, books, make_organization, make_user):
    outsider = make_user(role=Role.ADMIN, organization=make_organization("Globex"))
    body = get(client, outsider).json()
    assert D(body["portfolio"]["total_value"]) == 0
    assert {i["key"]: i["count"] for i in body["awaiting"]}["transactions_unclassified"] == 0


def test_needs_a_login_and_an_organization(client, make_user):
    assert client.get("/api/dashboard/").status_code == 401
    lone = make_user(organization=None)
    assert get(client, lone).status_code == 403


def test_figures_are_cached_until_cleared(client, books):
    accountant = books["accountant"]
    first = get(client, accountant).json()
    Transaction.objects.filter(organization=accountant.organization).update(is_classified=True)
    assert get(client, accountant).json()["awaiting"] == first["awaiting"]  # cached
    dashboard_cache_clear(organization_id=accountant.organization_id)
    awaiting = {i["key"]: i["count"] for i in get(client, accountant).json()["awaiting"]}
    assert awaiting["transactions_unclassified"] == 0


def test_higher_apps_register_awaiting_items(client, books):
    awaiting_provider_register("probe", lambda actor: [AwaitingItem("probe_due", "Probe", 4, "/app/", D("12.5"))])
    awaiting_provider_register("broken", lambda actor: 1 / 0)  # logged and left out
    try:
        items = {i["key"]: i for i in get(client, books["accountant"]).json()["awaiting"]}
    finally:
        _PROVIDERS.pop("probe")
        _PROVIDERS.pop("broken")
    assert items["probe_due"]["count"] == 4 and D(items["probe_due"]["total"]) == D("12.5")


def test_queries_do_not_grow_with_transactions(client, books, settings):
    settings.DASHBOARD_CACHE_SECONDS = 0
    accountant, wallet = books["accountant"], books["wallet"]

    def count():
        dashboard_cache_clear()
        with CaptureQueriesContext(connection) as captured:
            assert get(client, accountant).status_code == 200
        return len(captured.captured_queries)

    count()  # warm-up: the first request also loads the session and the chart
    few = count()
    rows = Transaction.objects.filter(wallet=wallet).order_by("transaction_date").first()
    copies = []
    for n in range(30):
        rows.pk = None
        rows.external_id = f"copy-{n}"
        copies.append(Transaction(**{f.attname: getattr(rows, f.attname) for f in Transaction._meta.concrete_fields
                                     if f.attname != "id"}))
    Transaction.objects.bulk_create(copies)
    assert count() == few


def test_invoices_and_payroll_register_their_items_for_the_books(client, books, make_user):
    awaiting = {i["key"]: i for i in get(client, books["accountant"]).json()["awaiting"]}
    assert {"invoices_open", "invoices_overdue", "payroll_due", "recurring_payments_due"} <= set(awaiting)
    assert awaiting["invoices_overdue"]["count"] == 0 and awaiting["invoices_overdue"]["url"].startswith("/app/invoices/")
    client.logout()
    member_keys = {i["key"] for i in get(client, make_user()).json()["awaiting"]}
    assert not member_keys & {"invoices_open", "payroll_due"}


def test_transactions_to_classify_are_counted_up_to_a_cap(client, books, settings, monkeypatch):
    """A capped window of ids, never a count over the history: past the cap the item says "at least"."""
    from reporting.dashboard import selectors

    settings.DASHBOARD_CACHE_SECONDS = 0
    Transaction.objects.update(is_classified=False)

    def to_classify():
        dashboard_cache_clear()
        return next(i for i in get(client, books["accountant"]).json()["awaiting"]
                    if i["key"] == "transactions_unclassified")

    item = to_classify()
    assert (item["count"], item["more"]) == (3, False)
    monkeypatch.setattr(selectors, "AWAITING_COUNT_CAP", 2)
    item = to_classify()
    assert (item["count"], item["more"]) == (2, True)
    Transaction.objects.filter(transaction_type="SELL").update(is_classified=True)
    item = to_classify()
    assert (item["count"], item["more"]) == (2, False)
    Transaction.objects.update(is_classified=False)
    dashboard_cache_clear()
    client.force_login(books["accountant"])
    page = client.get("/app/dashboard/")
    assert page.status_code == 200 and b'data-field="awaiting.transactions_unclassified">2+<' in page.content


def test_the_month_and_the_unclassified_are_asked_as_index_windows(client, books, settings):
    """The month's totals match on the organization and a date range, the unclassified on the
    organization and the flag, as top-level fields (the shape the server serves from an index)."""
    settings.DASHBOARD_CACHE_SECONDS = 0
    dashboard_cache_clear()
    with CaptureQueriesContext(connection) as captured:
        assert get(client, books["accountant"]).status_code == 200
    on_transactions = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("db.transactions.aggregate")]
    month = [sql for sql in on_transactions if "'$group'" in sql and "'transaction_type'" in sql]
    assert len(month) == 1 and "'$expr'" not in month[0] and "'$and'" not in month[0] and "'$sort'" not in month[0], month
    first_match = month[0].split("'$match': ", 1)[1]
    assert first_match.startswith("{'organization_id'") and "'transaction_date': {'$gte'" in first_match, month
    unclassified = [sql for sql in on_transactions if "'is_classified': False" in sql]
    assert len(unclassified) == 1 and "'$limit': 1001" in unclassified[0] and "'$expr'" not in unclassified[0]
