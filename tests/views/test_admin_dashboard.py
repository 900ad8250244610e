"""The admin's index is the dashboard (issue 11): unfold's DASHBOARD_CALLBACK shows the KPI cards of
/app/dashboard/ (the same selector, the same figures) for the admin's organization, above the list of
apps; another organization's figures never appear."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from core.templatetags.money import fiat
from reporting.dashboard.selectors import dashboard_for
from wallets.imports import transactions_import_universal

pytestmark = pytest.mark.django_db

HEADER = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
          "Net Worth Amount,Net Worth Currency,Label,Description,TxHash")
FIELDS = ("portfolio.total_value", "pnl.realized_ytd", "pnl.unrealized", "balances.cash", "transactions.count")


def history(year: int, tag: str) -> str:
    return "\n".join([
        HEADER,
        f"{year}-01-10 10:00:00,1000,USD,0.5,ETH,,,,,,Bought ETH,0xa{tag}",
        f"{year}-02-01 09:30:00,0.2,ETH,700,USD,,,,,,Sold some,0xb{tag}",
    ]) + "\n"


def figures(html: str) -> dict:
    return {name: value.strip() for name, value in re.findall(r'data-field="([a-z_.]+)">([^<]*)<', html)
            if name in FIELDS}


def test_the_admin_index_shows_the_dashboards_figures(client, make_user, make_organization):
    manager = make_user(role=Role.MANAGER)
    year = timezone.now().year
    transactions_import_universal(user=manager, text=history(year, "1"))
    stranger = make_user(role=Role.MANAGER, organization=make_organization("Globex"))
    transactions_import_universal(user=stranger, text=history(year, "2").replace(",700,USD", ",9000,USD"))
    client.force_login(manager)
    admin = client.get("/admin/")
    html = admin.content.decode()
    assert admin.status_code == 200 and 'id="admin-dashboard"' in html
    assert manager.organization.name in html
    shown = figures(html)
    assert set(shown) == set(FIELDS)
    expected = dashboard_for(manager)
    assert expected["pnl"]["realized_ytd"] == Decimal("300")  # 700 - 0.2 of 1000/0.5; not Globex's 8600
    assert shown["pnl.realized_ytd"] == fiat(Decimal("300"), "USD")
    assert shown["portfolio.total_value"] == fiat(expected["portfolio"]["total_value"], "USD")
    # the same cards as /app/dashboard/
    assert figures(client.get("/app/dashboard/").content.decode()) == shown
    assert 'id="admin-dashboard-changes"' in html
    assert "/admin/ledger/" in html  # the list of apps stays below the cards


def test_the_admin_index_is_not_for_plain_members(client, make_user):
    client.force_login(make_user())
    response = client.get("/admin/")
    assert response.status_code == 302 and 'id="admin-dashboard"' not in response.content.decode()


def test_a_platform_superuser_without_an_organization_gets_the_apps_only(client, make_user):
    root = make_user(role=Role.ADMIN, is_superuser=True, organization=None)
    client.force_login(root)
    response = client.get("/admin/")
    assert response.status_code == 200 and 'id="admin-dashboard"' not in response.content.decode()
