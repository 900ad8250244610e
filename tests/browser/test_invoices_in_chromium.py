"""Invoices in chromium against a real daphne: a manager creates a draft in the editor (its live totals
follow the lines as they are typed), issues it from its page and opens its PDF, which reads back
with the invoice's number and total (poppler); an unapplied payment is applied from the invoice page
through HTMX. No CSP violation on the way."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from invoicing import services
from invoicing.models import Invoice, UnappliedPayment
from tests.browser.test_backoffice_in_chromium import csp_violations
from tests.browser.test_reports_in_chromium import log_in
from tests.invoicing.conftest import item
from tests.invoicing.test_documents import pdf_text
from wallets.models import (
    Cryptocurrency,
    PriceSource,
    Transaction,
    TransactionSource,
    TransactionStatus,
    TransactionType,
    TransferDirection,
    Wallet,
    WalletType,
)
from wallets.prices import price_record

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def test_create_issue_and_open_the_pdf_of_an_invoice(live_url, page, tmp_path: Path):
    violations = csp_violations(page)
    log_in(live_url, page, role=Role.MANAGER, username="ivan")
    page.goto(f"{live_url}/app/invoices/")
    page.click("#invoice-new")
    page.wait_for_url(f"{live_url}/app/invoices/new/")

    page.fill("#client_name", "Globex Corporation")
    page.fill("#client_email", "ap@globex.test")
    page.fill("#tax_rate", "20")
    first = page.locator("tr.invoice-line").first
    first.locator("input[name=line_description]").fill("Consulting")
    first.locator("input[name=line_quantity]").fill("3")
    first.locator("input[name=line_unit_price]").type("150")
    expect(page.locator("[data-total=total]")).to_have_text("$540.00")  # 450 + 20 % tax, computed live
    page.click("#invoice-save")

    expect(page.locator("#invoice-status")).to_have_attribute("data-status", "DRAFT")
    page.click("#action-issue")
    expect(page.locator("#invoice-status")).to_have_attribute("data-status", "SENT")
    number = page.locator("#invoice-number").inner_text()
    assert number.startswith("INV-") and Invoice.objects.get().invoice_number == number
    expect(page.locator("#invoice-timeline")).to_contain_text(f"Issued as {number}")

    with page.context.expect_page() as opened:
        page.click("#invoice-pdf-link")
    pdf_page = opened.value
    assert pdf_page.url.endswith("/pdf/")
    response = page.context.request.get(pdf_page.url)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body(), tmp_path)
    assert number in text and "Globex Corporation" in text and "540.00" in text
    assert not violations, violations


def test_an_unapplied_payment_is_applied_from_the_invoice_page_with_htmx(live_url, page):
    """A transfer paid after the quote expired shows on the list (badge) and on the invoice page; Apply
    posts through HTMX: the page's <main> is swapped in place (no navigation), showing PAID."""
    violations = csp_violations(page)
    manager = log_in(live_url, page, role=Role.MANAGER, username="ursula")
    eth, _ = Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "decimals": 18})
    price_record(symbol="ETH", price=Decimal("2500"), fiat="USD", source=PriceSource.COINGECKO)
    wallet = Wallet.objects.create(organization_id=manager.organization_id, user=manager, name="Receivables",
                                   address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", wallet_type=WalletType.METAMASK)
    draft = services.invoice_create(actor=manager, client_name="Globex", items=[item(quantity="2", unit_price="1250.00")],
                                    payment_wallet_id=wallet.pk, crypto_currency="ETH")
    invoice = services.invoice_issue(actor=manager, invoice=draft)
    Invoice.objects.filter(pk=invoice.pk).update(crypto_valid_until=timezone.now() - dt.timedelta(seconds=1))
    tx_hash = "0x" + "ab" * 32
    Transaction.objects.create(
        transaction_type=TransactionType.TRANSFER, user=manager, organization_id=manager.organization_id, wallet=wallet,
        cryptocurrency=eth, amount=Decimal("1"), transaction_date=timezone.now(), hash=tx_hash,
        from_address="0x" + "1" * 40, to_address=wallet.address, source=TransactionSource.CHAIN,
        external_id=f"chain:{tx_hash}:-1:{wallet.address}", direction=TransferDirection.IN,
        status=TransactionStatus.CONFIRMED)
    assert services.invoices_settle_transfers().unapplied == 1
    row = UnappliedPayment.objects.get()

    page.goto(f"{live_url}/app/invoices/")
    expect(page.locator(f"#unapplied-badge-{invoice.pk}")).to_have_text("1 unapplied")
    page.click(f"#invoice-{invoice.pk} a")
    expect(page.locator(f"#unapplied-{row.pk}")).to_have_attribute("data-status", "OPEN")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / "invoice-unapplied-payment.png"), full_page=True)  # for review
    page.evaluate("window.__notReloaded = true")
    page.click(f"#unapplied-apply-{row.pk}")
    expect(page.locator("#invoice-status")).to_have_attribute("data-status", "PAID")
    expect(page.locator(f"#unapplied-{row.pk}")).to_have_attribute("data-status", "APPLIED")
    expect(page.locator(".bo-messages")).to_contain_text("Payment applied")
    assert page.evaluate("window.__notReloaded === true")  # swapped by HTMX, not a page load
    assert UnappliedPayment.objects.get().status == "APPLIED" and Invoice.objects.get(pk=invoice.pk).status == "PAID"
    assert not violations, violations
