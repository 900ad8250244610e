"""Invoices in chromium against a real daphne: a manager creates a draft in the editor (its live totals
follow the lines as they are typed), issues it from its page and opens its PDF, which reads back
with the invoice's number and total (poppler). No CSP violation on the way."""

from pathlib import Path

from playwright.sync_api import expect

from accounts.models import Role
from invoicing.models import Invoice
from tests.browser.test_backoffice_in_chromium import csp_violations
from tests.browser.test_reports_in_chromium import log_in
from tests.invoicing.test_documents import pdf_text


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
