"""The contract registry in chromium against a real daphne and anvil: register a token, verify its
source (a wrong setting first, then the right one), and read a function from its ABI form."""

import os
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from accounts.models import Role
from tests.browser.test_backoffice_in_chromium import csp_violations
from tests.browser.test_reports_in_chromium import log_in
from core import localstack
from wallets.erc20 import ARTIFACT, erc20_deploy_demo_token

SERVER_START_SECONDS = 300  # daphne imports every app; on a loaded shared machine that took 150 s


@pytest.fixture
def live_url(transactional_db):
    """tests/browser/conftest.py's live_url with a start-up deadline fit for a loaded machine."""
    port = localstack.free_port()
    env = {
        "MONGODB_URI": settings.DATABASES["default"]["HOST"], "MONGODB_NAME": connection.settings_dict["NAME"],
        "DATA_DIR": str(settings.DATA_DIR), "EMBEDDED_SMTP_PORT": str(settings.EMAIL_PORT),
        "ETH_RPC_URL": settings.ETH_RPC_URL, "ETH_CHAIN_ID": str(settings.ETH_CHAIN_ID), "HUEY_IMMEDIATE": "true",
        "DEBUG": "true", "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    server = localstack.ManagedProcess(
        "daphne", [str(localstack.Path(os.sys.executable).with_name("daphne")), "-b", "127.0.0.1", "-p", str(port),
                   "config.asgi:application"],
        log_path=localstack.Path(settings.DATA_DIR) / "log" / f"daphne-{port}.log", env=env,
    ).start()
    url = f"http://127.0.0.1:{port}"

    def ready():
        try:
            with urllib.request.urlopen(f"{url}/api/system/health/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True
        except Exception:
            return False

    server.wait_until(ready, timeout=SERVER_START_SECONDS, what="HTTP")
    yield url
    server.stop()


def test_register_verify_and_read_a_contract(live_url, page, eth_node):
    violations = csp_violations(page)
    token = erc20_deploy_demo_token(name="Browser Dollar", symbol="BRD", decimals=4)
    log_in(live_url, page, role=Role.MANAGER, username="carla")
    page.goto(f"{live_url}/app/contracts/")
    expect(page.locator("#contract-empty")).to_be_visible()
    page.fill("#register-address", token.lower())
    page.select_option("#register-type", "erc20")
    page.click("#register-submit")
    page.wait_for_url(f"{live_url}/app/contracts/*/")
    expect(page.locator("#contract-address")).to_have_text(token)
    expect(page.locator("#contract-token")).to_contain_text("Browser Dollar (BRD), 4 decimals")
    expect(page.locator("#verification-status")).to_have_text("Not verified")

    source = (Path(ARTIFACT).parent / "DemoToken.sol").read_text()
    page.select_option("#verify-version", "0.8.37")
    page.fill("#verify-source", source)
    page.click("#verify-submit")  # optimizer off: not what was deployed
    expect(page.locator("#verify-error")).to_contain_text("Runtime bytecode differs", timeout=60_000)
    expect(page.locator("#verification-status")).to_have_text("Source does not match")
    page.check("#verify-optimizer")
    page.fill("#verify-runs", "200")
    page.click("#verify-submit")
    expect(page.locator("#verification-status")).to_have_text("Verified", timeout=60_000)
    expect(page.locator("#verification-summary")).to_contain_text("immutable value(s) ignored")

    page.reload()  # the verified ABI's functions, as forms
    symbol = page.locator('form[data-function="symbol()"]')
    symbol.locator("button").click()
    expect(symbol.locator("output")).to_have_text("BRD")
    balance = page.locator('form[data-function="balanceOf(address)"]')
    balance.locator("input[type=text]").fill("0x12")
    balance.locator("button").click()
    expect(balance.locator(".bo-error")).to_contain_text("must be an address")
    page.goto(f"{live_url}/app/contracts/")
    expect(page.locator("#contract-table")).to_contain_text("Browser Dollar")
    assert not violations, violations
