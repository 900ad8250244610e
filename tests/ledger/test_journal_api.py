"""/api/journal-entries/: drafts, validation, posting and reversal rules, who may do what (USER:
nothing; accountant: drafts; manager: post and reverse; admin: lock date), another organization's
entries answering 404 on every endpoint, the lock date and trial balance per organization, and list
queries that do not grow with rows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditLogEntry, Role
from core.models import RealtimeEvent
from core.realtime import Audience, organization_group
from ledger import services
from ledger.models import JournalEntry
from tests.ledger.conftest import entry_body
from core.errors import Conflict, Forbidden, NotFound

pytestmark = pytest.mark.django_db

BASE = "/api/journal-entries/"


def create(api, **fields):
    response = api("post", BASE, entry_body(**fields))
    assert response.status_code == 201, response.content
    return response.json()


def posted(api, **fields):
    entry = create(api, **fields)
    response = api("post", f"{BASE}{entry['id']}/post/")
    assert response.status_code == 200, response.content
    return response.json()


def error_code(response):
    return response.json()["error"]["code"]


def test_create_keeps_exact_decimals_and_who_made_it(manager_api):
    body = entry_body(amount="1234.56789012", reference="INV-7", transaction_hash="0x" + "AB" * 32)
    entry = manager_api("post", BASE, body).json()
    assert entry["status"] == "draft" and entry["entry_id"] is None
    assert entry["total_debit"] == entry["total_credit"] == "1234.56789012"
    assert entry["created_by"] == manager_api.user.username and entry["transaction_hash"] == "0x" + "ab" * 32
    stored = connection.database["journal_entries"].find_one({})
    assert len(stored["line_items"]) == 2  # one document, lines embedded
    assert stored["line_items"][0]["debit_amount"].to_decimal() == Decimal("1234.56789012")


@pytest.mark.parametrize("lines, code", [
    ([{"account_code": "1110", "debit_amount": "100"}, {"account_code": "3100", "credit_amount": "99.99"}],
     "unbalanced"),
    ([{"account_code": "1110", "debit_amount": "0"}, {"account_code": "3100", "credit_amount": "0"}], "zero_line"),
    ([{"account_code": "1110", "debit_amount": "100"}], "too_few_lines"),
    ([], "too_few_lines"),
    ([{"account_code": "1110", "debit_amount": "-5"}, {"account_code": "3100", "credit_amount": "-5"}],
     "negative_amount"),
    ([{"account_code": "1110", "debit_amount": "5", "credit_amount": "5"},
      {"account_code": "3100", "credit_amount": "0"}], "debit_and_credit"),
    ([{"account_code": "1110", "debit_amount": "5"}, {"account_code": "9999", "credit_amount": "5"}],
     "unknown_account"),
    ([{"account_code": "1110", "debit_amount": "0.000000001"}, {"account_code": "3100", "credit_amount": "0.000000001"}],
     "too_many_decimals"),
])
def test_broken_entries_are_refused_and_nothing_is_written(manager_api, lines, code):
    response = manager_api("post", BASE, {"date": "2026-03-01", "description": "bad", "line_items": lines})
    assert response.status_code == 422 and error_code(response) == code, response.content
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("change", [{"debit_amount": "abc"}, {"debit_amount": "NaN"}, {"extra": 1}])
def test_malformed_lines_are_422(manager_api, change):
    body = entry_body()
    body["line_items"][0].update(change)
    response = manager_api("post", BASE, body)
    assert response.status_code == 422 and error_code(response) == "validation_error"
    assert not JournalEntry.objects.exists()


def test_inactive_account_is_refused(manager_api):
    account = manager_api("get", "/api/accounts/?parent_account=1100").json()["items"][0]
    assert manager_api("put", f"/api/accounts/{account['id']}/", {"is_active": False}).status_code == 200
    response = manager_api("post", BASE, entry_body(debit=account["account_code"]))
    assert response.status_code == 422 and error_code(response) == "inactive_account"


def test_an_account_deactivated_after_the_draft_blocks_posting(manager_api):
    entry = create(manager_api)
    account = manager_api("get", "/api/accounts/?parent_account=1100").json()["items"][0]
    manager_api("put", f"/api/accounts/{account['id']}/", {"is_active": False})
    response = manager_api("post", f"{BASE}{entry['id']}/post/")
    assert response.status_code == 422 and error_code(response) == "inactive_account"
    assert JournalEntry.objects.get().status == "draft"


def test_drafts_are_editable_and_deletable(manager_api):
    entry = create(manager_api)
    updated = manager_api("put", f"{BASE}{entry['id']}/", entry_body(amount="250.5", description="More capital"))
    assert updated.status_code == 200
    assert updated.json()["total_debit"] == "250.5" and updated.json()["description"] == "More capital"
    bad = manager_api("put", f"{BASE}{entry['id']}/", entry_body(amount="1", credit="9999"))
    assert bad.status_code == 422 and JournalEntry.objects.get().total_debit == Decimal("250.5")
    assert manager_api("delete", f"{BASE}{entry['id']}/").status_code == 200
    assert not JournalEntry.objects.exists()


def test_post_numbers_and_freezes_the_entry(manager_api):
    entry = posted(manager_api)
    assert entry["status"] == "posted" and entry["entry_id"] == "JE-2026-000001"
    assert entry["posted_by"] == manager_api.user.username and entry["posted_at"]
    edit = manager_api("put", f"{BASE}{entry['id']}/", entry_body(amount="1"))
    assert edit.status_code == 409 and error_code(edit) == "entry_not_draft"
    delete = manager_api("delete", f"{BASE}{entry['id']}/")
    assert delete.status_code == 409 and error_code(delete) == "entry_not_draft"
    again = manager_api("post", f"{BASE}{entry['id']}/post/")
    assert again.status_code == 409 and error_code(again) == "entry_not_draft"
    assert JournalEntry.objects.get().total_debit == Decimal(100)
    event = RealtimeEvent.objects.get(event_type="ledger.entry_posted")
    # Only the organization's book keepers hear of it (the issue: a fresh USER got it on /ws/live/).
    assert event.group == organization_group(manager_api.user.organization_id, Audience.BOOKS)
    assert event.payload["entry_id"] == "JE-2026-000001"


def test_an_accountant_works_drafts_but_cannot_post_or_reverse(accountant_api, manager_api):
    entry = create(accountant_api)
    assert entry["created_by"] == accountant_api.user.username
    edited = accountant_api("put", f"{BASE}{entry['id']}/", entry_body(amount="75"))
    assert edited.status_code == 200 and edited.json()["total_debit"] == "75"
    response = accountant_api("post", f"{BASE}{entry['id']}/post/")
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert JournalEntry.objects.get().status == "draft"
    assert accountant_api("post", BASE, entry_body(source_key="tx:1:x")).status_code == 403  # source keys: managers
    with pytest.raises(Forbidden) as refused:  # the service says the same, whoever calls it
        services.journal_entry_create(created_by=accountant_api.user, date=dt.date(2026, 3, 1), description="x",
                                      line_items=entry_body()["line_items"], post=True)
    assert isinstance(refused.value, Forbidden)
    manager_api("post", f"{BASE}{entry['id']}/post/")
    assert accountant_api("post", f"{BASE}{entry['id']}/reverse/").status_code == 403
    assert accountant_api("get", f"{BASE}{entry['id']}/").json()["status"] == "posted"
    assert accountant_api("get", f"{BASE}trial-balance/").status_code == 200
    spare = create(accountant_api, description="spare")
    assert accountant_api("delete", f"{BASE}{spare['id']}/").status_code == 200
    assert JournalEntry.objects.count() == 1


def test_reverse_swaps_lines_links_both_ways_and_only_once(manager_api):
    entry = posted(manager_api)
    response = manager_api("post", f"{BASE}{entry['id']}/reverse/", {"date": "2026-03-05"})
    assert response.status_code == 201
    reversal = response.json()
    assert reversal["status"] == "posted" and reversal["entry_id"] == "JE-2026-000002"
    assert reversal["reversal_of_id"] == entry["id"]
    assert [(line["account_code"], line["debit_amount"], line["credit_amount"]) for line in reversal["line_items"]] == [
        ("1110", "0", "100"), ("3100", "100", "0")]
    original = manager_api("get", f"{BASE}{entry['id']}/").json()
    assert original["status"] == "reversed" and original["reversal_entry_id"] == reversal["id"]
    assert original["reversed_by"] == manager_api.user.username
    twice = manager_api("post", f"{BASE}{entry['id']}/reverse/")
    assert twice.status_code == 409 and error_code(twice) == "entry_already_reversed"
    of_reversal = manager_api("post", f"{BASE}{reversal['id']}/reverse/")
    assert of_reversal.status_code == 409 and error_code(of_reversal) == "entry_is_reversal"
    assert JournalEntry.objects.count() == 2
    assert RealtimeEvent.objects.filter(event_type="ledger.entry_reversed").count() == 1


def test_reversing_a_draft_is_409(manager_api):
    entry = create(manager_api)
    response = manager_api("post", f"{BASE}{entry['id']}/reverse/")
    assert response.status_code == 409 and error_code(response) == "entry_not_posted"
    assert JournalEntry.objects.count() == 1


def test_a_reversal_cannot_be_dated_before_its_entry(manager_api):
    entry = posted(manager_api, date="2026-03-10")
    response = manager_api("post", f"{BASE}{entry['id']}/reverse/", {"date": "2026-03-09"})
    assert response.status_code == 422 and JournalEntry.objects.count() == 1


@pytest.mark.parametrize("path", ["{id}/", "{id}/post/", "{id}/reverse/"])
def test_unknown_and_malformed_ids_are_404(manager_api, path):
    for entry_id in ("6553f1c2a4b5c6d7e8f90123", "not-an-id", "12345"):
        method = "get" if path == "{id}/" else "post"
        response = manager_api(method, BASE + path.format(id=entry_id))
        assert response.status_code == 404 and error_code(response) == "not_found", (entry_id, response.content)


def endpoints(entry_id):
    """Every journal-entry endpoint, with a body where it takes one."""
    return (("get", BASE, None), ("post", BASE, entry_body()), ("get", f"{BASE}{entry_id}/", None),
            ("put", f"{BASE}{entry_id}/", entry_body(amount="1")), ("delete", f"{BASE}{entry_id}/", None),
            ("post", f"{BASE}{entry_id}/post/", None), ("post", f"{BASE}{entry_id}/reverse/", None),
            ("get", f"{BASE}trial-balance/", None), ("get", f"{BASE}lock-date/", None),
            ("put", f"{BASE}lock-date/", {"lock_date": "2026-01-31"}))


def test_a_plain_user_gets_403_on_the_books(user_api, manager_api):
    """The issue's leak: a USER read the entries (their own) and the lock date. Now every endpoint
    of the books answers 403 to them, whatever the id."""
    entry = create(manager_api, description="the company's")
    for method, path, body in endpoints(entry["id"]):
        response = user_api(method, path, body)
        assert response.status_code == 403 and error_code(response) == "permission_denied", (method, path)
    assert JournalEntry.objects.get().status == "draft" and JournalEntry.objects.count() == 1


def test_another_organizations_entries_are_404_on_every_endpoint(manager_api, admin_api, api_as,
                                                                 make_organization):
    other = make_organization("Other")
    theirs = api_as(Role.ADMIN, organization=other)
    draft = create(theirs, description="their draft")
    booked = posted(theirs, description="their posted entry")
    mine = create(manager_api, description="mine")
    for caller in (manager_api, admin_api):
        for entry in (draft, booked):
            for method, path, body in endpoints(entry["id"]):
                if entry["id"] not in path:
                    continue
                response = caller(method, path, body)
                assert response.status_code == 404 and error_code(response) == "not_found", (method, path)
        assert [e["id"] for e in caller("get", BASE).json()["items"]] == [mine["id"]]
    assert JournalEntry.objects.get(pk=draft["id"]).status == "draft"
    assert JournalEntry.objects.get(pk=booked["id"]).status == "posted"
    with pytest.raises(NotFound) as refused:  # services refuse it too, whoever calls them
        services.journal_entry_post(entry=JournalEntry.objects.get(pk=draft["id"]), actor=manager_api.user)
    assert isinstance(refused.value, NotFound)
    # Their books are untouched: my trial balance and theirs are separate.
    assert manager_api("get", f"{BASE}trial-balance/").json()["rows"] == []
    assert theirs("get", f"{BASE}trial-balance/").json()["total_debit"] == "100"


def test_an_accountant_sees_every_entry_of_their_organization(accountant_api, manager_api):
    mine = create(accountant_api, description="mine")
    create(manager_api, description="the manager's")
    assert {e["description"] for e in accountant_api("get", BASE).json()["items"]} == {"mine", "the manager's"}
    assert manager_api("put", f"{BASE}{mine['id']}/", entry_body(description="fixed by manager")).status_code == 200


def test_list_filters(manager_api):
    posted(manager_api, date="2026-01-10", description="january")
    create(manager_api, date="2026-02-10", description="february", debit="5100", credit="1110")
    def descriptions(query):
        return [e["description"] for e in manager_api("get", f"{BASE}?{query}").json()["items"]]
    assert descriptions("") == ["february", "january"]
    assert descriptions("status=posted") == ["january"]
    assert descriptions("date_from=2026-02-01") == ["february"]
    assert descriptions("date_to=2026-01-10") == ["january"]
    assert descriptions("account_code=5100") == ["february"]
    assert manager_api("get", f"{BASE}?status=sideways").status_code == 422


def test_lock_date_is_set_by_admins_only_and_audited(admin_api, api_as):
    manager = api_as(Role.MANAGER)
    refused = manager("put", f"{BASE}lock-date/", {"lock_date": "2026-03-31"})
    assert refused.status_code == 403
    assert api_as(Role.USER, is_accountant=True)("put", f"{BASE}lock-date/", {"lock_date": "2026-03-31"}).status_code == 403
    response = admin_api("put", f"{BASE}lock-date/", {"lock_date": "2026-03-31"})
    assert response.status_code == 200 and response.json()["lock_date"] == "2026-03-31"
    assert response.json()["updated_by"] == admin_api.user.username
    assert manager("get", f"{BASE}lock-date/").json()["lock_date"] == "2026-03-31"
    admin_api.user.organization.refresh_from_db()
    assert admin_api.user.organization.lock_date == dt.date(2026, 3, 31)  # the organization's own
    admin_api("put", f"{BASE}lock-date/", {"lock_date": "2026-04-30"})
    history = list(AuditLogEntry.objects.filter(action="ledger_lock_date_set").order_by("created_at"))
    assert [(h.details["previous"], h.details["lock_date"]) for h in history] == [
        (None, "2026-03-31"), ("2026-03-31", "2026-04-30")]
    assert history[0].actor_username == admin_api.user.username


def test_lock_date_refuses_create_post_and_reverse_on_or_before_it(admin_api):
    early = posted(admin_api, date="2026-03-15")
    draft = create(admin_api, date="2026-03-31")
    later = create(admin_api, date="2026-04-01")
    admin_api("put", f"{BASE}lock-date/", {"lock_date": "2026-03-31"})
    for response in (admin_api("post", BASE, entry_body(date="2026-03-31")),
                     admin_api("post", f"{BASE}{draft['id']}/post/"),
                     admin_api("post", f"{BASE}{early['id']}/reverse/", {"date": "2026-04-02"}),
                     admin_api("put", f"{BASE}{later['id']}/", entry_body(date="2026-03-30"))):
        assert response.status_code == 409 and error_code(response) == "period_locked", response.content
    assert admin_api("post", f"{BASE}{later['id']}/post/").status_code == 200
    assert JournalEntry.objects.count() == 3 and JournalEntry.objects.get(pk=early["id"]).status == "posted"
    assert JournalEntry.objects.get(pk=draft["id"]).status == "draft"


def test_the_lock_date_of_one_organization_does_not_lock_another(admin_api, api_as, make_organization):
    other = make_organization("Other")
    theirs = api_as(Role.ADMIN, organization=other)
    their_draft = create(theirs, date="2026-03-15")
    admin_api("put", f"{BASE}lock-date/", {"lock_date": "2026-03-31"})
    assert theirs("get", f"{BASE}lock-date/").json() == {"lock_date": None, "updated_by": None, "updated_at": None}
    assert theirs("post", f"{BASE}{their_draft['id']}/post/").status_code == 200
    assert theirs("post", BASE, entry_body(date="2026-03-01")).status_code == 201
    refused = admin_api("post", BASE, entry_body(date="2026-03-01"))
    assert refused.status_code == 409 and error_code(refused) == "period_locked"
    # An admin sets only their own organization's lock date, even through the service.
    with pytest.raises(NotFound) as elsewhere:
        services.ledger_lock_date_set(actor=admin_api.user, organization_id=other.pk, lock_date=dt.date(2026, 12, 31))
    assert isinstance(elsewhere.value, NotFound)
    other.refresh_from_db()
    assert other.lock_date is None


def test_trial_balance_is_staff_only_and_as_of(manager_api, api_as):
    posted(manager_api, amount="1000", date="2026-01-05")
    posted(manager_api, amount="40", debit="5100", credit="1110", date="2026-02-05")
    create(manager_api, amount="999", date="2026-01-06")  # drafts never count
    report = manager_api("get", f"{BASE}trial-balance/?as_of=2026-01-31").json()
    assert [(r["account_code"], r["debit_balance"], r["credit_balance"]) for r in report["rows"]] == [
        ("1110", "1000", "0"), ("3100", "0", "1000")]
    full = manager_api("get", f"{BASE}trial-balance/").json()
    assert full["total_debit"] == full["total_credit"] == "1040" and full["is_balanced"]
    assert full["total_debit_balance"] == full["total_credit_balance"] == "1000"
    assert api_as(Role.USER)("get", f"{BASE}trial-balance/").status_code == 403
    assert api_as(Role.USER, is_accountant=True)("get", f"{BASE}trial-balance/").json()["total_debit"] == "1040"
    assert manager_api("get", f"{BASE}trial-balance/?as_of=yesterday").status_code == 422


def test_source_key_makes_an_automatic_journal_once(manager_api):
    services.journal_entry_create(created_by=manager_api.user, date=dt.date(2026, 3, 1), description="auto",
                                  line_items=entry_body()["line_items"], source_key="tx:1:acquisition", post=True)
    response = manager_api("post", BASE, entry_body(source_key="tx:1:acquisition"))
    assert response.status_code == 409 and error_code(response) == "duplicate_source_key"
    entry = JournalEntry.objects.get()
    assert entry.status == "posted" and entry.entry_id == "JE-2026-000001"


def test_an_entry_links_to_its_source_transaction(manager_api, api_as):
    from wallets.models import Cryptocurrency, Transaction

    eth = Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    owner = api_as(Role.USER)
    tx = Transaction.objects.create(transaction_type="BUY", user=owner.user, organization=owner.user.organization,
                                    cryptocurrency=eth, amount=Decimal(1), transaction_date="2026-03-01T00:00:00Z",
                                    hash="0x" + "c" * 64)
    body = entry_body(source_transaction_id=str(tx.pk), transaction_hash=tx.hash)
    entry = manager_api("post", BASE, body).json()
    assert entry["source_transaction_id"] == str(tx.pk) and entry["transaction_hash"] == tx.hash
    listed = manager_api("get", f"{BASE}?transaction_hash={tx.hash}").json()["items"]
    assert [e["id"] for e in listed] == [entry["id"]]
    from core.models import Organization

    outsider = api_as(Role.ADMIN, organization=Organization.objects.create(name="Outside"))
    from ledger.services import chart_of_accounts_ensure_default

    chart_of_accounts_ensure_default(organization_id=outsider.user.organization_id)
    refused = outsider("post", BASE, body)  # another organization's transaction is not theirs to link
    assert refused.status_code == 422 and error_code(refused) == "unknown_transaction"
    assert api_as(Role.USER, is_accountant=True)("post", BASE, body).status_code == 201


def test_users_cannot_take_source_keys(user_api, accountant_api):
    for caller in (user_api, accountant_api):
        response = caller("post", BASE, entry_body(source_key="tx:1:acquisition"))
        assert response.status_code == 403 and not JournalEntry.objects.exists()


def test_unknown_source_transaction_is_422(manager_api):
    response = manager_api("post", BASE, entry_body(source_transaction_id="6553f1c2a4b5c6d7e8f90123"))
    assert response.status_code == 422 and error_code(response) == "unknown_transaction"


def test_list_queries_do_not_grow_with_rows(manager_api, mongo_commands):
    def count():
        with CaptureQueriesContext(connection) as captured, mongo_commands() as commands:
            response = manager_api("get", f"{BASE}?limit=50")
            assert response.status_code == 200
        return len(captured.captured_queries), len(commands), len(response.json()["items"])

    lines = entry_body()["line_items"]
    def add(n):
        for _ in range(n):
            services.journal_entry_create(created_by=manager_api.user, date=dt.date(2026, 3, 1),
                                          description="row", line_items=lines, post=True)
    add(3)
    orm_queries, commands, rows = count()
    assert rows == 3 and commands >= orm_queries >= 1
    print(f"journal entry list: {orm_queries} ORM queries, {commands} database commands")
    add(27)
    assert count() == (orm_queries, commands, 30)


def test_every_ledger_endpoint_is_in_the_openapi_schema(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    expected = {
        "/api/accounts/": {"get", "post"},
        "/api/accounts/{account_id}/": {"get", "put", "delete"},
        "/api/journal-entries/": {"get", "post"},
        "/api/journal-entries/{entry_id}/": {"get", "put", "delete"},
        "/api/journal-entries/{entry_id}/post/": {"post"},
        "/api/journal-entries/{entry_id}/reverse/": {"post"},
        "/api/journal-entries/trial-balance/": {"get"},
        "/api/journal-entries/lock-date/": {"get", "put"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path


def test_no_event_is_published_for_a_post_that_fails(manager_api):
    entry = create(manager_api)
    stale = JournalEntry.objects.get(pk=entry["id"])
    services.journal_entry_post(entry=JournalEntry.objects.get(pk=entry["id"]), actor=manager_api.user)
    RealtimeEvent.objects.all().delete()
    with pytest.raises(Conflict):
        services.journal_entry_post(entry=stale, actor=manager_api.user)  # fails inside the transaction
    assert not RealtimeEvent.objects.exists()


def test_unauthenticated_calls_are_401(client, chart):
    assert client.get(BASE).status_code == 401
    assert client.get("/api/accounts/").status_code == 401
