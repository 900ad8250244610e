"""/api/accounts/: the default chart (every organization gets its own), hierarchy rules (cycles
refused), balances from posted entries only, rolled up through children, who may see and change the
chart, and another organization's accounts answering 404."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from ledger import services
from ledger.models import FinancialAccount
from tests.ledger.conftest import entry_body

pytestmark = pytest.mark.django_db

BASE = "/api/accounts/"


def by_code(api, code):
    return next(a for a in api("get", f"{BASE}?limit=200").json()["items"] if a["account_code"] == code)


def new_account(api, **fields):
    body = {"account_code": "1150", "account_name": "Petty cash", "account_type": "asset",
            "parent_account": "1100", **fields}
    response = api("post", BASE, body)
    assert response.status_code == 201, response.content
    return response.json()


def post_entry(user, amount, debit, credit, day=dt.date(2026, 3, 1)):
    lines = [{"account_code": debit, "debit_amount": Decimal(amount)},
             {"account_code": credit, "credit_amount": Decimal(amount)}]
    return services.journal_entry_create(created_by=user, date=day, description="t", line_items=lines, post=True)


def test_the_default_chart_is_there_and_loading_it_again_creates_nothing(chart):
    from wallets.models import Cryptocurrency

    org = chart.pk
    codes = set(FinancialAccount.objects.filter(organization=chart).values_list("account_code", flat=True))
    for key in ("cash", "bank", "crypto_assets", "receivables", "payables", "payroll_liabilities", "tax_payable",
                "equity", "retained_earnings", "revenue", "crypto_income", "realised_gains", "expenses",
                "gas_fees", "salaries", "realised_losses"):
        assert services.chart_account_get(key=key, organization_id=org).account_code in codes
    Cryptocurrency.objects.create(name="Ethereum", symbol="ETH")
    # Crypto asset accounts are made on first use, not for every asset known to the installation.
    assert services.chart_of_accounts_ensure_default(organization_id=org) == 0
    eth = services.crypto_asset_account_get_or_create(symbol="eth", organization_id=org)
    assert (eth.account_code, eth.parent_account, eth.account_type) == ("1200-ETH", "1200", "asset")
    assert services.crypto_asset_account_get_or_create(symbol="ETH", organization_id=org).pk == eth.pk
    dusd = services.crypto_asset_account_get_or_create(symbol="DUSD", organization_id=org)
    assert dusd.system_key == "crypto:DUSD"
    assert FinancialAccount.objects.filter(organization=chart, system_key__startswith="crypto:").count() == 2


def test_every_new_organization_gets_its_own_default_chart(chart, make_organization):
    other = make_organization("Other", reporting_fiat="EUR")
    mine = {a.account_code: a for a in FinancialAccount.objects.filter(organization=chart)}
    theirs = {a.account_code: a for a in FinancialAccount.objects.filter(organization=other)}
    assert len(theirs) == len(services.DEFAULT_CHART) and set(theirs) == set(mine)
    assert {a.currency for a in theirs.values()} == {"EUR"} and {a.currency for a in mine.values()} == {"USD"}
    assert not set(a.pk for a in theirs.values()) & set(a.pk for a in mine.values())
    # A crypto asset account made in one organization's chart does not appear in the other's.
    services.crypto_asset_account_get_or_create(symbol="ETH", organization_id=other.pk)
    assert not FinancialAccount.objects.filter(organization=chart, account_code="1200-ETH").exists()
    # The same code is free in each organization (unique per organization, not installation-wide).
    services.account_create(actor=None, organization_id=chart.pk, account_code="1150", account_name="Petty",
                            account_type="asset", parent_account="1100")
    services.account_create(actor=None, organization_id=other.pk, account_code="1150", account_name="Petty",
                            account_type="asset", parent_account="1100")


def test_a_failed_organization_creation_leaves_no_chart(db):
    """The chart is written inside the creator's transaction: a rollback takes it away too."""
    from django_mongodb_backend.transaction import atomic

    from core.models import Organization
    from core.organizations import organization_create

    with pytest.raises(RuntimeError), atomic():
        organization_create(name="Doomed")
        raise RuntimeError("the creator fails after the organization was made")
    assert not Organization.objects.filter(name="Doomed").exists()
    assert not FinancialAccount.objects.exists()


def test_the_chart_is_ensured_by_migrate_for_every_organization_and_keeps_hand_edits(chart, make_organization):
    from core.models import Organization

    other = make_organization("Other")
    FinancialAccount.objects.filter(organization=chart).delete()
    FinancialAccount.objects.create(organization=chart, account_code="1110", account_name="Till", account_type="asset")
    bare = Organization.objects.create(name="Made before the ledger knew it")  # no signal: no chart
    call_command("migrate", "ledger", verbosity=0)  # sends post_migrate
    assert FinancialAccount.objects.get(organization=chart, system_key="cash").account_name == "Till"
    for organization in (chart, other, bare):
        assert FinancialAccount.objects.filter(organization=organization, system_key="realised_losses").exists()
    count = FinancialAccount.objects.count()
    call_command("migrate", "ledger", verbosity=0)
    assert FinancialAccount.objects.count() == count == 3 * len(services.DEFAULT_CHART)


def test_a_plain_user_gets_403_on_the_chart(manager_api, api_as):
    """The issue's leak: a plain employee read the company's balances. Now every account endpoint
    answers 403 to a USER, whatever the id (their own organization's, another's, or none)."""
    created = new_account(manager_api)
    user = api_as(Role.USER)
    for method, path, body in (("get", BASE, None), ("get", f"{BASE}{created['id']}/", None),
                               ("get", f"{BASE}6553f1c2a4b5c6d7e8f90123/", None),
                               ("post", BASE, {"account_code": "1160", "account_name": "x", "account_type": "asset"}),
                               ("put", f"{BASE}{created['id']}/", {"account_name": "mine"}),
                               ("delete", f"{BASE}{created['id']}/", None)):
        response = user(method, path, body)
        assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied", (method, path)
    assert FinancialAccount.objects.get(account_code="1150").account_name == "Petty cash"
    assert not FinancialAccount.objects.filter(account_code="1160").exists()


def test_an_accountant_works_the_chart(manager_api, accountant_api):
    created = new_account(accountant_api)
    assert created["level"] == 2 and created["balance"] == "0" and created["children"] == []
    assert accountant_api("get", BASE).status_code == 200
    renamed = accountant_api("put", f"{BASE}{created['id']}/", {"account_name": "Till"})
    assert renamed.status_code == 200 and renamed.json()["account_name"] == "Till"
    assert accountant_api("delete", f"{BASE}{created['id']}/").status_code == 200


def test_another_organizations_accounts_are_404_on_every_endpoint(manager_api, api_as, make_organization):
    other = make_organization("Other")
    theirs = api_as(Role.ADMIN, organization=other)
    their_account = new_account(theirs)
    mine = new_account(manager_api)
    for method, body in (("get", None), ("put", {"account_name": "taken over"}), ("delete", None)):
        response = manager_api(method, f"{BASE}{their_account['id']}/", body)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", method
    assert FinancialAccount.objects.get(pk=their_account["id"]).account_name == "Petty cash"
    # The list shows only the caller's chart; the same code lives in both.
    listed = {a["id"] for a in manager_api("get", f"{BASE}?limit=200").json()["items"]}
    assert mine["id"] in listed and their_account["id"] not in listed
    assert len(listed) == FinancialAccount.objects.filter(organization=manager_api.user.organization).count()
    # A parent is looked up in the caller's own chart only.
    services.account_create(actor=theirs.user, account_code="1190", account_name="Theirs only",
                            account_type="asset", parent_account="1100")
    response = manager_api("post", BASE, {"account_code": "1191", "account_name": "x", "account_type": "asset",
                                          "parent_account": "1190"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "unknown_parent"


@pytest.mark.parametrize("fields, status, code", [
    ({"account_code": "1110"}, 409, "account_code_taken"),
    ({"parent_account": "9999"}, 422, "unknown_parent"),
    ({"parent_account": "2000"}, 422, "parent_type_mismatch"),
    ({"account_code": "bad code!"}, 422, "invalid_account_code"),
    ({"account_type": "asset-ish"}, 422, "validation_error"),
    ({"currency": "usdollar"}, 422, "validation_error"),
])
def test_bad_accounts_are_refused(manager_api, fields, status, code):
    before = FinancialAccount.objects.count()
    body = {"account_code": "1150", "account_name": "Petty cash", "account_type": "asset", "parent_account": "1100",
            **fields}
    response = manager_api("post", BASE, body)
    assert response.status_code == status and response.json()["error"]["code"] == code, response.content
    assert FinancialAccount.objects.count() == before


def test_parent_cycles_are_refused(manager_api):
    assets = by_code(manager_api, "1000")
    for parent in ("1000", "1100", "1110"):  # itself, a child, a grandchild
        response = manager_api("put", f"{BASE}{assets['id']}/", {"parent_account": parent})
        assert response.status_code == 409 and response.json()["error"]["code"] == "parent_cycle", parent
    assert FinancialAccount.objects.get(account_code="1000").parent_account == ""
    cash = by_code(manager_api, "1110")
    moved = manager_api("put", f"{BASE}{cash['id']}/", {"parent_account": "1200"})
    assert moved.status_code == 200 and moved.json()["parent_account"] == "1200"
    top = manager_api("put", f"{BASE}{cash['id']}/", {"parent_account": ""})
    assert top.status_code == 200 and top.json()["level"] == 0


def test_type_of_a_used_account_is_fixed(manager_api):
    post_entry(manager_api.user, "5", "1110", "3100")
    cash = by_code(manager_api, "1110")
    response = manager_api("put", f"{BASE}{cash['id']}/", {"account_type": "expense", "parent_account": ""})
    assert response.status_code == 409 and response.json()["error"]["code"] == "account_in_use"


def test_an_account_with_postings_is_deactivated_not_deleted(manager_api):
    petty = new_account(manager_api)
    post_entry(manager_api.user, "5", "1150", "3100")
    response = manager_api("delete", f"{BASE}{petty['id']}/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "account_has_postings"
    assert manager_api("put", f"{BASE}{petty['id']}/", {"is_active": False}).json()["is_active"] is False
    assert FinancialAccount.objects.filter(account_code="1150").exists()


def test_delete_rules(manager_api):
    parent = by_code(manager_api, "1100")
    response = manager_api("delete", f"{BASE}{parent['id']}/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "account_has_children"
    petty = new_account(manager_api)
    manager_api("post", "/api/journal-entries/", entry_body(debit="1150"))
    in_draft = manager_api("delete", f"{BASE}{petty['id']}/")
    assert in_draft.status_code == 409 and in_draft.json()["error"]["code"] == "account_in_draft_entries"
    spare = new_account(manager_api, account_code="1160", account_name="Spare")
    assert manager_api("delete", f"{BASE}{spare['id']}/").status_code == 200
    assert not FinancialAccount.objects.filter(account_code="1160").exists()
    for missing in ("6553f1c2a4b5c6d7e8f90123", "nope"):
        assert manager_api("get", f"{BASE}{missing}/").status_code == 404
        assert manager_api("delete", f"{BASE}{missing}/").status_code == 404


def test_balances_come_from_posted_entries_and_roll_up(manager_api):
    user = manager_api.user
    post_entry(user, "1000", "1110", "3100", dt.date(2026, 1, 10))   # capital in cash
    post_entry(user, "250.25", "1120", "1110", dt.date(2026, 2, 10))  # cash to bank
    post_entry(user, "40", "5300", "1120", dt.date(2026, 3, 10))      # gas fee paid from the bank
    manager_api("post", "/api/journal-entries/", entry_body(amount="999", debit="1110"))  # a draft: ignored
    reversed_entry = post_entry(user, "70", "1110", "4100", dt.date(2026, 3, 11))
    services.journal_entry_reverse(entry=reversed_entry, actor=user, date=dt.date(2026, 3, 12))

    def balances(code, query=""):
        account = by_code(manager_api, code)
        detail = manager_api("get", f"{BASE}{account['id']}/{query}").json()
        return Decimal(detail["balance"]), Decimal(detail["rolled_up_balance"])

    assert balances("1110") == (Decimal("749.75"), Decimal("749.75"))
    assert balances("1120") == (Decimal("210.25"), Decimal("210.25"))
    assert balances("1100") == (0, Decimal("960"))
    assert balances("1000") == (0, Decimal("960"))
    assert balances("3100") == (Decimal("1000"), Decimal("1000"))  # credit-normal: shown positive
    assert balances("5000") == (0, Decimal("40"))
    assert balances("4100") == (0, 0)  # posted and reversed
    assert balances("1100", "?as_of=2026-01-31") == (0, Decimal("1000"))
    listed = by_code(manager_api, "1000")
    assert Decimal(listed["rolled_up_balance"]) == Decimal("960") and listed["level"] == 0
    cash = manager_api("get", f"{BASE}{by_code(manager_api, '1110')['id']}/").json()
    assert (cash["debit_total"], cash["credit_total"]) == ("1070", "320.25")


def test_list_queries_do_not_grow_with_rows(manager_api, mongo_commands):
    def count():
        with CaptureQueriesContext(connection) as captured, mongo_commands() as commands:
            response = manager_api("get", f"{BASE}?limit=200")
            assert response.status_code == 200
        return len(captured.captured_queries), len(commands), len(response.json()["items"])

    for n in range(3):
        post_entry(manager_api.user, "1", "1110", "3100")
    orm_queries, commands, rows = count()
    assert commands > orm_queries  # the balances' aggregation is a raw command
    for n in range(27):
        post_entry(manager_api.user, "1", "1110", "3100")
    for n in range(10):
        services.account_create(actor=manager_api.user, account_code=f"51{n:02d}-x", account_name="x",
                                account_type="expense", parent_account="5100")
    assert count() == (orm_queries, commands, rows + 10)
    print(f"account list: {orm_queries} ORM queries, {commands} database commands")
