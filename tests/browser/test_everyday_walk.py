"""The everyday work in chromium against a real daphne, on a real anvil (issue 11): the demo manager
creates a wallet, receives ETH from an anvil dev account and sees the balance change without a
reload, sends with the password prompt and watches the send go PENDING -> CONFIRMED on the page,
classifies the send in the transactions page's drawer and sees its journal entry there, sees the
dashboard's figures change (read before the wallet and after the send), then writes, posts and
reverses a journal entry. Screenshots at 1280 px wide are saved under var/screenshots/ (not
committed) for a reviewer."""

import os
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from core import localstack

from core.demo import demo_load
from ledger.models import EntryStatus, JournalEntry
from wallets import chain
from wallets.models import OutgoingTransfer, Transaction, TransferStatus, Wallet
from wallets.monitoring import monitor_scan

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
MANAGER, MANAGER_PASSWORD = "manager", "Quarter!Close2026"  # the demo's manager (README)
SLOW = 60_000  # what waits for the server, the chain or the live socket (shared machines are slow)


@pytest.fixture
def walk_url(transactional_db):
    """tests/browser/conftest.py's live daphne, given up to 3 minutes to start: this walk runs on
    shared CI machines where importing the whole app under load takes longer than 30 s."""
    port = localstack.free_port()
    env = {"MONGODB_URI": settings.DATABASES["default"]["HOST"], "MONGODB_NAME": connection.settings_dict["NAME"],
           "DATA_DIR": str(settings.DATA_DIR), "EMBEDDED_SMTP_PORT": str(settings.EMAIL_PORT),
           "ETH_RPC_URL": settings.ETH_RPC_URL, "ETH_CHAIN_ID": str(settings.ETH_CHAIN_ID),
           "ETH_CONFIRMATIONS": str(settings.ETH_CONFIRMATIONS), "HUEY_IMMEDIATE": "true", "DEBUG": "true",
           "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    server = localstack.ManagedProcess(
        "daphne", [str(Path(os.sys.executable).with_name("daphne")), "-b", "127.0.0.1", "-p", str(port),
                   "config.asgi:application"],
        log_path=Path(settings.DATA_DIR) / "log" / f"daphne-{port}.log", env=env,
    ).start()
    url = f"http://127.0.0.1:{port}"

    def ready():
        try:
            with urllib.request.urlopen(f"{url}/api/system/health/", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except Exception:
            return False

    server.wait_until(ready, timeout=180, what="HTTP")
    yield url
    server.stop()


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def dashboard_figures(page) -> dict:
    expect(page.locator('#dashboard [data-field="transactions.count"]')).to_be_visible(timeout=SLOW)
    return {name: page.locator(f'#dashboard dd[data-field="{name}"]').inner_text().strip()
            for name in ("portfolio.total_value", "pnl.realized_ytd", "transactions.count")}


def mine(blocks):
    chain.web3_client().provider.make_request("anvil_mine", [hex(blocks)])


def csp_violations(page):
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return violations


def test_everyday_walk(walk_url, page, eth_node):
    try:
        walk(walk_url, page)
    except Exception:
        shot(page, "failure")  # what the page showed when the walk stopped
        (SCREENSHOTS / "failure.html").write_text(page.content())
        raise


def walk(live_url, page):
    demo_load()
    page.set_viewport_size({"width": 1280, "height": 900})
    violations = csp_violations(page)

    # log in as the demo manager
    page.goto(f"{live_url}/app/login/")
    page.fill("#id_username", MANAGER)
    page.fill("#id_password", MANAGER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}/app/")
    expect(page.locator("#live-area")).to_have_attribute("data-live", "connected", timeout=SLOW)

    # the dashboard's figures before the walk moves anything
    page.goto(f"{live_url}/app/dashboard/")
    before = dashboard_figures(page)
    shot(page, "00-dashboard-before")

    # create a wallet (a generated key)
    page.goto(f"{live_url}/app/wallets/")
    shot(page, "01-wallets")
    page.click("#new-wallet")
    page.fill("#id_name", "Walk treasury")
    expect(page.locator("#id_private_key")).to_be_hidden()  # generate: no key field shown
    page.click("#wallet-create")
    expect(page.locator("h1")).to_contain_text("Walk treasury", timeout=SLOW)
    wallet = Wallet.objects.get(name="Walk treasury")
    expect(page.locator("#receive-uri")).to_contain_text(f"ethereum:{wallet.address}@{settings.ETH_CHAIN_ID}")
    expect(page.locator("#receive-qr svg")).to_be_visible()
    expect(page.locator('.balance-row[data-asset="ETH"] .balance-amount')).to_have_text("0", timeout=SLOW)
    expect(page.locator("#live-area")).to_have_attribute("data-live", "connected", timeout=SLOW)
    page.evaluate("window.__noReloadMarker = 'still-here'")

    # receive 0.5 ETH from an anvil dev account; the monitor records it and the page updates itself
    chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("0.5")))
    mine(3)
    report = monitor_scan()
    assert report.balances_recorded >= 1
    expect(page.locator('.balance-row[data-asset="ETH"] .balance-amount')).to_have_text("0.5", timeout=SLOW)
    expect(page.locator("#wallet-activity tr.wallet-tx")).to_have_count(1, timeout=SLOW)
    assert page.evaluate("window.__noReloadMarker") == "still-here"
    shot(page, "02-wallet-received")

    # send 0.1 ETH: the gas tiers, the password prompt, then pending -> confirmed on the page
    recipient = chain.dev_account(3).address
    page.select_option("#send-asset", "ETH")
    page.fill("#send-amount", "0.1")
    page.fill("#send-to", recipient)
    page.locator("#send-to").dispatch_event("change")
    expect(page.locator("#gas-tiers tr.gas-tier")).to_have_count(3, timeout=SLOW)
    page.fill("#send-password", MANAGER_PASSWORD)
    page.click("#send-submit")
    expect(page.locator("#send-result")).to_be_visible(timeout=SLOW)
    transfer = OutgoingTransfer.objects.get(wallet=wallet)
    row = page.locator(f"#transfer-{transfer.pk}")
    expect(row).to_have_attribute("data-status", "PENDING")
    expect(page.locator("#session-approved")).to_be_visible()  # the next send needs no password
    shot(page, "03-send-pending")
    mine(3)
    expect(row).to_have_attribute("data-status", "CONFIRMED", timeout=SLOW)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CONFIRMED and OutgoingTransfer.objects.filter(wallet=wallet).count() == 1
    expect(page.locator('.balance-row[data-asset="ETH"] .balance-amount')).not_to_have_text("0.5", timeout=SLOW)
    assert page.evaluate("window.__noReloadMarker") == "still-here"
    shot(page, "04-send-confirmed")

    # classify the send in the transactions page's drawer, then see the journal entry that books it
    sent = Transaction.objects.get(hash=transfer.tx_hash, wallet=wallet)
    page.goto(f"{live_url}/app/transactions/?wallet={wallet.pk}")
    tx_row = page.locator(f'tr.transaction-row[data-transaction="{sent.pk}"]')
    expect(tx_row).to_be_visible(timeout=SLOW)
    tx_row.locator(".tx-open").click()
    expect(page.locator("#transaction-detail")).to_have_attribute("data-transaction", str(sent.pk), timeout=SLOW)
    page.select_option("#label-choice", "payment")
    page.select_option("#category-choice", "business")
    page.click("#label-save")
    expect(page.locator("#transaction-drawer .bo-message")).to_contain_text("re-booked", timeout=SLOW)
    expect(page.locator("#drawer-label")).to_contain_text("payment")
    expect(tx_row.locator(".tx-label")).to_have_text("payment", timeout=SLOW)  # the list refreshed itself
    sent.refresh_from_db()
    assert sent.ai_subcategory == "payment"
    shot(page, "09-transaction-classified")
    booked = JournalEntry.objects.filter(source_transaction=sent, status=EntryStatus.POSTED).first()
    assert booked is not None and booked.entry_id, "the labelled send is booked by the journal sync"
    entry_link = page.locator(f'#transaction-books .je-in-drawer[data-entry="{booked.pk}"] a.je-link')
    expect(entry_link).to_have_text(booked.entry_id, timeout=SLOW)
    for line in booked.line_items:
        expect(page.locator("#transaction-books")).to_contain_text(line.account_code)
    # a payment disposes of the 0.1 ETH (and of the gas paid in ETH): its cost basis and gain are shown
    expect(page.locator("#books-disposals tr.books-disposal").first).to_contain_text("0.1 ETH")
    shot(page, "10-transaction-journal")
    entry_link.click()
    expect(page.locator("#entry-status")).to_have_text("Posted", timeout=SLOW)

    # the dashboard's figures have moved (the receive and the send)
    page.goto(f"{live_url}/app/dashboard/")
    after = dashboard_figures(page)
    deadline = time.monotonic() + SLOW / 1000
    while after["transactions.count"] == before["transactions.count"] and time.monotonic() < deadline:
        time.sleep(2)  # the figures are cached per user for a few seconds
        page.reload()
        after = dashboard_figures(page)
    assert int(after["transactions.count"]) >= int(before["transactions.count"]) + 2, (before, after)
    assert after["portfolio.total_value"] != before["portfolio.total_value"], (before, after)
    shot(page, "11-dashboard-after")
    # the admin's index is the same dashboard (unfold's dashboard hook), with the same figures
    page.goto(f"{live_url}/admin/")
    expect(page.locator('#admin-dashboard [data-field="transactions.count"]')).to_have_text(
        after["transactions.count"], timeout=SLOW)
    shot(page, "12-admin-dashboard")

    # a journal entry: lines picked from the chart, balanced as typed, posted, then reversed
    page.goto(f"{live_url}/app/ledger/entries/new/")
    page.fill("#id_description", "Walk: owner's capital")
    page.fill("#id_reference", "WALK-1")
    rows = page.locator("#entry-lines-body tr.je-line")
    rows.nth(0).locator("select").select_option("1110")
    rows.nth(0).locator(".je-debit").fill("125.00")
    rows.nth(1).locator("select").select_option("3100")
    rows.nth(1).locator(".je-credit").fill("120")
    expect(page.locator("#entry-balance")).to_have_attribute("data-balanced", "false")
    expect(page.locator("#entry-balance")).to_contain_text("Out of balance by 5.00")
    rows.nth(1).locator(".je-credit").fill("125")
    expect(page.locator("#entry-balance")).to_have_attribute("data-balanced", "true")
    shot(page, "05-journal-editor")
    page.click("#save-and-post")
    expect(page.locator("#entry-status")).to_have_text("Posted", timeout=SLOW)
    entry = JournalEntry.objects.get(reference="WALK-1")
    assert entry.status == EntryStatus.POSTED and entry.entry_id
    shot(page, "06-journal-posted")
    page.click("#reverse-entry")
    expect(page.locator("#entry-status")).to_have_text("Reversed", timeout=SLOW)
    expect(page.locator("#reversal-link")).to_be_visible()
    entry.refresh_from_db()
    assert entry.status == EntryStatus.REVERSED
    shot(page, "07-journal-reversed")
    page.goto(f"{live_url}/app/ledger/entries/")
    expect(page.locator(f'tr.journal-entry-row[data-entry="{entry.pk}"]')).to_contain_text("Reversed")
    shot(page, "08-journal-list")
    assert violations == []
