"""The invoice as a document: the A4 PDF read back with poppler (pdftotext), its header repeated on
every page, a page rendered to PNG for review; the email with the PDF through the real SMTP server,
sent once unless resent; the public payment page."""

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import Role
from core.models import Organization
from invoicing import services
from invoicing.services import documents
from tests.invoicing.conftest import item

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes, folder: Path) -> str:
    path = folder / "invoice.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def pdf_pages(data: bytes, folder: Path) -> int:
    path = folder / "pages.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.fixture
def branded(organization):
    Organization.objects.filter(pk=organization.pk).update(
        address="42 Ledger Lane\nLisbon", tax_id="PT509999999", email="billing@acme.test", primary_color="#0a6e4f")
    organization.refresh_from_db()
    return organization


def _crypto_invoice(manager, wallet, **fields):
    draft = services.invoice_create(actor=manager, client_name="Globex Corp", client_email="ap@globex.test",
                                    client_address="1 Main St", items=fields.pop("items", [item()]),
                                    tax_rate=Decimal("20"), payment_wallet_id=wallet.pk, crypto_currency="ETH",
                                    template=fields.pop("template", None))
    return services.invoice_issue(actor=manager, invoice=draft)


def test_the_pdf_reads_back_with_branding_items_totals_and_the_crypto_block(
        branded, manager, receiving_wallet, eth, tmp_path, access_token_for, client):
    invoice = _crypto_invoice(manager, receiving_wallet)
    response = client.get(f"/api/invoices/{invoice.pk}/pdf/", HTTP_AUTHORIZATION=f"Bearer {access_token_for(manager)}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content, tmp_path)
    for expected in ("Acme", "42 Ledger Lane", "Tax ID: PT509999999", "Invoice", invoice.invoice_number, "Globex Corp",
                     "Consulting", "Subtotal", "$300.00", "Tax", "$60.00", "Total", "$360.00", "PAY IN CRYPTO",
                     "0.144 ETH", receiving_wallet.address, "coingecko", "Payment due within 30 days",
                     "Thank you for your business."):
        assert expected in text, expected
    # Long strings wrap in the crypto block wherever the glyphs' widths fall: read them without breaks.
    assert "/pay/" + invoice.payment_token in text.replace("\n", "").replace(" ", "")
    assert "ethereum:" + receiving_wallet.address + "@31337?value=144000000000000000" in text.replace("\n", "")


def test_a_long_invoice_breaks_across_pages_with_the_header_repeated(branded, manager, tmp_path):
    items = [item(description=f"Line {n:03d}", quantity="1", unit_price=f"{n}.00") for n in range(1, 121)]
    draft = services.invoice_create(actor=manager, client_name="Globex Corp", items=items, tax_rate=Decimal("0"))
    invoice = services.invoice_issue(actor=manager, invoice=draft)
    pdf = documents.invoice_pdf(invoice)
    pages = pdf_pages(pdf, tmp_path)
    text = pdf_text(pdf, tmp_path)
    assert pages >= 3
    assert text.count("Unit price") == pages  # the items header on every page
    assert "Line 001" in text and "Line 120" in text and f"Page {pages} of {pages}" in text
    assert "$7,260.00" in text  # 1 + ... + 120
    review = Path(settings.DATA_DIR) / "review"
    review.mkdir(parents=True, exist_ok=True)
    (tmp_path / "long.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / "long.pdf"),
                    str(review / "invoice-page-1")], check=True)
    assert (review / "invoice-page-1.png").stat().st_size > 10_000


def test_send_emails_the_pdf_once_unless_resent(branded, manager, receiving_wallet, eth, mailbox, tmp_path,
                                                access_token_for, client, make_user):
    draft = services.invoice_create(actor=manager, client_name="Globex Corp", client_email="ap@globex.test",
                                    items=[item()], tax_rate=Decimal("20"), payment_wallet_id=receiving_wallet.pk,
                                    crypto_currency="ETH")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(manager)}"}
    first = client.post(f"/api/invoices/{draft.pk}/send/", {}, content_type="application/json", **headers)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["emailed"] is True and body["invoice"]["status"] == "SENT" and body["invoice"]["sent_at"]
    assert len(mailbox) == 1
    message = mailbox[0]
    number = body["invoice"]["invoice_number"]
    assert message["To"] == "ap@globex.test" and message["Subject"] == f"Invoice {number} from Acme"
    parts = list(message.walk())
    text = next(p for p in parts if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "0.144 ETH" in text and "/pay/" in text
    attachment = next(p for p in parts if p.get_content_type() == "application/pdf")
    assert attachment.get_filename() == f"{number}.pdf"
    assert number in pdf_text(attachment.get_payload(decode=True), tmp_path)
    second = client.post(f"/api/invoices/{draft.pk}/send/", {}, content_type="application/json", **headers)
    assert second.status_code == 200 and second.json()["emailed"] is False and len(mailbox) == 1
    again = client.post(f"/api/invoices/{draft.pk}/send/", {"resend": True}, content_type="application/json", **headers)
    assert again.json()["emailed"] is True and len(mailbox) == 2
    assert (Path(settings.MEDIA_ROOT) / again.json()["invoice"]["file_path"]).exists()


def test_send_without_a_client_email_and_a_refused_email(manager, settings, mailbox):
    from core.errors import DomainError, Unavailable

    no_email = services.invoice_create(actor=manager, client_name="Walk-in", items=[item()])
    with pytest.raises(DomainError) as refused:
        documents.invoice_send(actor=manager, invoice=no_email)
    assert refused.value.code == "client_email_required"
    draft = services.invoice_create(actor=manager, client_name="Globex", client_email="ap@globex.test", items=[item()])
    settings.EMAIL_PORT = 9  # nothing listens there
    with pytest.raises(Unavailable):
        documents.invoice_send(actor=manager, invoice=draft)
    draft.refresh_from_db()
    assert draft.status == "SENT" and draft.sent_at is None  # issued, the claim released: a retry sends


def test_the_public_payment_page(manager, receiving_wallet, eth):
    invoice = _crypto_invoice(manager, receiving_wallet)
    anonymous = Client()
    page = anonymous.get(f"/pay/{invoice.payment_token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert invoice.invoice_number in html and receiving_wallet.address in html and "0.144 ETH" in html
    assert "<svg" in html and "ethereum:" in html
    # Live: the page's socket, and polling every 10 s only if the socket fails (invoicing/static/invoicing/pay.js).
    assert f'data-ws-path="/ws/pay/{invoice.payment_token}/"' in html and 'data-poll-seconds="10"' in html
    assert "invoicing/pay.js" in html
    assert "Globex" not in html  # the payer sees the request, not the organization's client records
    assert anonymous.get("/pay/" + "x" * 32 + "/").status_code == 404
    services.invoice_status_set(actor=manager, invoice=invoice, status="PAID")
    fragment = anonymous.get(f"/pay/{invoice.payment_token}/status/").content.decode()
    assert 'data-status="PAID"' in fragment and "ethereum:" not in fragment


def test_accountants_read_the_pdf_plain_users_do_not(make_user, access_token_for, client, manager):
    draft = services.invoice_create(actor=manager, client_name="Globex", items=[item()])
    accountant = make_user(Role.USER, is_accountant=True)
    plain = make_user(Role.USER)
    ok = client.get(f"/api/invoices/{draft.pk}/pdf/", HTTP_AUTHORIZATION=f"Bearer {access_token_for(accountant)}")
    assert ok.status_code == 200 and b"DRAFT" not in ok.content[:10]
    assert client.get(f"/api/invoices/{draft.pk}/pdf/",
                      HTTP_AUTHORIZATION=f"Bearer {access_token_for(plain)}").status_code == 403
