"""The contract registry in chromium against a real daphne and anvil: register a token, verify its
source (a wrong setting first, then the right one), and read a function from its ABI form."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from tests.browser.test_backoffice_in_chromium import csp_violations
from tests.browser.test_reports_in_chromium import log_in
from wallets.erc20 import ARTIFACT, erc20_deploy_demo_token


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
