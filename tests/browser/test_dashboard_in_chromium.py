"""The dashboard page in chromium against a real daphne: the figures arrive over
/ws/admin/dashboard-stats/; when the server goes away the page says so, reconnects with backoff once
it is back, and catches up with what changed meanwhile, without a reload (static/backoffice/live.js)."""

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import user_create
from core import localstack
from tests.browser.conftest import daphne_start
from wallets.models import Cryptocurrency, WalletType
from wallets.prices import price_record
from wallets.services import transaction_create, wallet_create

PASSWORD = "Ledger!Figures2026"


@pytest.fixture
def restartable_server(transactional_db):
    """A daphne like tests/browser/conftest.py's `live_url`, that the test can stop and start again on
    the same port."""
    port = localstack.free_port()
    url = f"http://127.0.0.1:{port}"
    servers = []

    def start():
        servers.append(daphne_start(port, log_suffix=f"-{len(servers)}")[0])

    def stop():
        servers[-1].stop()

    start()
    yield url, start, stop
    if servers[-1].alive():
        servers[-1].stop()


def test_dashboard_reconnects_and_catches_up_after_the_server_went_away(restartable_server, page):
    url, start, stop = restartable_server
    manager = user_create(username="dana", email="dana@example.test", password=PASSWORD, first_name="Dana",
                          last_name="Dash", role=Role.MANAGER, email_verified=True)
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    price_record(organization=manager.organization, symbol="ETH", price=Decimal("2000"))
    wallet = wallet_create(user=manager, name="ops", wallet_type=WalletType.PRIVATE_KEY)
    page.goto(f"{url}/app/dashboard/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{url}/app/dashboard/")
    card = page.locator("#dashboard")
    expect(card).to_have_attribute("data-live", "connected")
    expect(card).to_have_attribute("data-updates", "1")  # the figures sent on connect
    page.evaluate("window.__noReloadMarker = 'still-here'")

    stop()
    expect(card).to_have_attribute("data-live", "disconnected")
    # Meanwhile the books change (no server to hear it).
    transaction_create(actor=manager, wallet=wallet, asset="ETH", transaction_type="BUY", amount=Decimal("3"),
                       price_at_transaction=Decimal("1000"), transaction_date=dt.datetime(2025, 1, 2, tzinfo=dt.UTC))
    start()
    expect(card).to_have_attribute("data-connections", "2", timeout=60_000)
    expect(card).to_have_attribute("data-live", "connected")
    expect(page.locator('[data-field="portfolio.total_value"]')).to_contain_text("6,000")
    assert page.evaluate("window.__noReloadMarker") == "still-here"
