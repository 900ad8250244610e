"""Classifying from the transactions page in chromium against a real daphne: filter the list, open a
transaction's drawer, ask the classifier, accept its suggestion, and see the row labelled (the list
refreshes itself) with no CSP violation. The history it learns from is labelled through the same
service the page uses (wallets.services.transaction_update)."""

import datetime as dt
from decimal import Decimal

from playwright.sync_api import expect

from accounts.models import Role
from tests.browser.test_backoffice_in_chromium import csp_violations
from tests.browser.test_reports_in_chromium import log_in
from wallets.models import Cryptocurrency, Transaction, WalletType
from wallets.services import transaction_update, wallet_create

CLIENT = "0x" + "b2" * 20


def received(wallet, asset, n, description):
    tx_hash = "0x" + f"{n:064x}"
    return Transaction.objects.create(
        transaction_type="TRANSFER", wallet=wallet, cryptocurrency=asset, amount=Decimal("2"),
        transaction_date=dt.datetime(2026, 3, n, 12, tzinfo=dt.UTC), source="chain", hash=tx_hash,
        external_id=f"chain:{tx_hash}:-1:{wallet.address}", direction="in", from_address=CLIENT,
        to_address=wallet.address, usd_value=Decimal("4000"), description=description, status="CONFIRMED")


def test_classify_and_accept_from_the_transactions_page(live_url, page):
    violations = csp_violations(page)
    manager = log_in(live_url, page, role=Role.MANAGER, username="cleo")
    eth = Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})[0]
    wallet = wallet_create(user=manager, name="treasury", wallet_type=WalletType.PRIVATE_KEY)
    for n in (1, 2, 3):
        row = received(wallet, eth, n, f"retainer {n}")
        transaction_update(actor=manager, transaction=row, label="income", category="business")
    fresh = received(wallet, eth, 4, "retainer 4")

    page.goto(f"{live_url}/app/transactions/")
    page.check("input[name=unlabelled]")
    page.click("#transaction-filters button[type=submit]")
    rows = page.locator("tr.transaction-row")
    expect(rows).to_have_count(1)
    row = page.locator(f"tr.transaction-row[data-transaction='{fresh.pk}']")
    row.locator("a.tx-open").click()
    expect(page.locator("#transaction-detail")).to_have_attribute("data-transaction", str(fresh.pk))
    page.click("#classify-now")
    expect(page.locator("#suggested-label")).to_have_text("income")
    expect(page.locator("#suggested-reason")).to_contain_text("same counterparty as 3 transactions you labelled income")
    page.click("#suggestion-accept")
    expect(page.locator("#classification-notice")).to_contain_text("Accepted")
    # the list refreshed itself (HX-Trigger): the row left the "unlabelled" list; it is labelled now
    expect(rows).to_have_count(0)
    page.goto(f"{live_url}/app/transactions/?label=income")
    expect(page.locator(f"tr.transaction-row[data-transaction='{fresh.pk}'] td.tx-label")).to_have_text("income")
    fresh.refresh_from_db()
    assert (fresh.ai_subcategory, fresh.transaction_type, fresh.tax_category) == ("income", "INCOME", "income")
    assert not violations, violations
