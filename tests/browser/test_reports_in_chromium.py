"""Portfolio, tax reports and statements in chromium against a real daphne: charts draw under the CSP,
pickers swap their data without a reload, a tax report generated from the form lands in the list."""

import datetime as dt
import io
from decimal import Decimal

from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from accounts.services import user_create
from tests.browser.test_backoffice_in_chromium import csp_violations

PASSWORD = "Ledger!Browser2026"
KOINLY = """Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash
2025-01-10 09:00:00,10000,USD,1,BTC,10,USD,,,,first buy,
2025-06-01 09:00:00,0.5,BTC,30000,USD,,,,,,sell half,
"""


def log_in(live_url, page, role=Role.MANAGER, username="rita"):
    user = user_create(username=username, email=f"{username}@example.test", password=PASSWORD, first_name="Rita",
                       last_name="Reports", role=role, email_verified=True)
    page.goto(f"{live_url}/app/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}/app/**")
    return user


def with_history(user, tmp_path):
    from wallets.models import PriceQuote

    source = tmp_path / "koinly.csv"
    source.write_text(KOINLY)
    call_command("import_transactions", str(source), user=user.username, format="universal", stdout=io.StringIO())
    today = timezone.localdate()
    for days, price in ((40, "50000"), (5, "60000"), (0, "62000")):
        PriceQuote.objects.create(symbol="BTC", fiat="USD", day=today - dt.timedelta(days=days), price=Decimal(price))


def test_portfolio_charts_draw_and_the_period_picker_swaps_them(live_url, page, tmp_path):
    violations = csp_violations(page)
    user = log_in(live_url, page)
    with_history(user, tmp_path)
    page.goto(f"{live_url}/app/portfolio/")
    page.evaluate("window.__noReloadMarker = 'still-here'")
    expect(page.locator("#portfolio-value-canvas")).to_have_attribute("data-rendered", "30d")
    expect(page.locator("#portfolio-allocation-canvas")).to_have_attribute("data-rendered", "yes")
    page.click("button.portfolio-period[data-period='7d']")
    expect(page.locator("#portfolio-value-canvas")).to_have_attribute("data-rendered", "7d")
    assert page.evaluate("window.__noReloadMarker") == "still-here"
    assert not violations, violations


def test_a_tax_report_generated_from_the_form_appears_completed(live_url, page, tmp_path):
    violations = csp_violations(page)
    user = log_in(live_url, page, role=Role.USER, username="tess")
    with_history(user, tmp_path)
    page.goto(f"{live_url}/app/tax-reports/")
    page.evaluate("window.__noReloadMarker = 'still-here'")
    page.select_option("select[name=report_type]", "ANNUAL")
    page.fill("input[name=year]", "2025")
    page.click(".tax-report-form button[type=submit]")
    row = page.locator("tr.tax-report-row").first
    expect(row).to_have_attribute("data-status", "COMPLETED")
    # FIFO: 0.5 BTC sold for 30,000 against half the 10,010 lot: a gain of 24,995.
    expect(row).to_contain_text("$24,995.00")
    expect(row.locator("a", has_text="PDF")).to_have_count(1)
    assert page.evaluate("window.__noReloadMarker") == "still-here"
    assert not violations, violations


def test_balance_sheet_page_draws_its_chart(live_url, page, tmp_path):
    violations = csp_violations(page)
    user = log_in(live_url, page)
    with_history(user, tmp_path)  # the import books its journals (automatic entries)
    page.goto(f"{live_url}/app/reports/balance-sheet/")
    expect(page.locator("#statement-chart-canvas")).to_have_attribute("data-rendered", "BALANCE_SHEET:2")
    expect(page.locator("#statement-view")).to_contain_text("Crypto")
    assert not violations, violations
