"""The dashboard page in chromium against a real daphne: the figures arrive over
/ws/admin/dashboard-stats/; when the server goes away the page says so, reconnects with backoff once
it is back, and catches up with what changed meanwhile, without a reload (static/backoffice/live.js)."""

import datetime as dt
import os
import urllib.request
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import user_create
from core import localstack
from wallets.models import Cryptocurrency, WalletType
from wallets.prices import price_record
from wallets.services import transaction_create, wallet_create

PASSWORD = "Ledger!Figures2026"


@pytest.fixture
def restartable_server(transactional_db):
    """A daphne like tests/browser/conftest.py's `live_url`, that the test can stop and start again on
    the same port."""
    port = localstack.free_port()
    env = {"MONGODB_URI": settings.DATABASES["default"]["HOST"], "MONGODB_NAME": connection.settings_dict["NAME"],
           "DATA_DIR": str(settings.DATA_DIR), "EMBEDDED_SMTP_PORT": str(settings.EMAIL_PORT),
           "ETH_RPC_URL": settings.ETH_RPC_URL, "ETH_CHAIN_ID": str(settings.ETH_CHAIN_ID),
           "HUEY_IMMEDIATE": "true", "DEBUG": "true", "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    url = f"http://127.0.0.1:{port}"
    servers = []

    def ready():
        try:
            with urllib.request.urlopen(f"{url}/api/system/health/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True
        except Exception:
            return False

    def start():
        server = localstack.ManagedProcess(
            "daphne", [str(localstack.Path(os.sys.executable).with_name("daphne")), "-b", "127.0.0.1", "-p", str(port),
                       "config.asgi:application"],
            log_path=localstack.Path(settings.DATA_DIR) / "log" / f"daphne-{port}-{len(servers)}.log", env=env).start()
        servers.append(server)
        server.wait_until(ready, timeout=60, what="HTTP")

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
