"""The PDF payslip (weasyprint, read back with pdftotext) and its email through the real SMTP server."""

import datetime as dt
import subprocess

import pytest

from payroll import services
from payroll.models import Payslip

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "payslip.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def _alice(period, team):
    return Payslip.objects.get(period=period, employee=team.alice)


def test_the_pdf_has_branding_earnings_deductions_and_year_to_date_totals(team, january, api_as, tmp_path):
    organization = team.organization
    organization.address, organization.tax_id, organization.primary_color = "1 Ledger Lane\nBooktown", "TX-42", "#aa3300"
    organization.save()
    jan = _alice(january, team)
    services.payslip_update(actor=team.manager, payslip=jan, other_deductions=[
        {"type": "loan", "amount": "100", "description": "Laptop loan"}])
    services.payslip_approve(actor=team.manager, payslip=jan)
    services.payslip_payment_process(actor=team.manager, payslip=jan, reference="JAN-BATCH")
    february = services.payroll_period_create(actor=team.manager, period_id="2026-02", start_date=dt.date(2026, 2, 1),
                                              end_date=dt.date(2026, 2, 28), pay_date=dt.date(2026, 2, 28))
    feb = _alice(february, team)
    response = api_as(team.alice)("GET", f"/api/payslips/{feb.pk}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="payslip-2026-02-001.pdf"'
    text = pdf_text(response.content, tmp_path)
    for expected in ("Acme", "1 Ledger Lane", "Booktown", "Tax id TX-42", "Payslip", "2026-02-001",
                     "Alice Archer", "Engineer", "Basic salary", "$5,000.00", "Housing allowance", "$500.00",
                     "Transport allowance", "$200.00", "Gross pay", "$5,700.00", "Tax withheld", "$640.00",
                     "Insurance (employee)", "$285.00", "Total deductions", "$925.00", "Net pay: $4,775.00",
                     "Year to date (2026)"):
        assert expected in text, expected
    # year to date: January (paid, with the 100.00 loan) + this February payslip
    ytd = text[text.index("Year to date"):]
    assert "$11,400.00" in ytd  # gross 5,700 x 2
    assert "$1,280.00" in ytd  # tax 640 x 2
    assert "$570.00" in ytd  # insurance
    assert "$100.00" in ytd  # other deductions (January's loan)
    assert "$9,450.00" in ytd  # net 4,675 + 4,775
    inline = api_as(team.manager)("GET", f"/api/payslips/{jan.pk}/pdf/")
    assert inline["Content-Disposition"].startswith("inline;")
    jan_text = pdf_text(inline.content, tmp_path)
    assert "Laptop loan" in jan_text and "Payment reference: JAN-BATCH" in jan_text


def test_a_prorated_payslip_says_so(team, tmp_path):
    services.pay_profile_set(actor=team.manager, employee=team.no_profile, basic_salary="3100",
                             start_date=dt.date(2026, 1, 11), payment_method="cash")
    period = services.payroll_period_create(actor=team.manager, period_id="P", start_date=dt.date(2026, 1, 1),
                                            end_date=dt.date(2026, 1, 31), pay_date=dt.date(2026, 1, 31))
    slip = Payslip.objects.get(period=period, employee=team.no_profile)
    assert "Pro-rated: 21 of 31 days" in pdf_text(services.payslip_pdf(slip), tmp_path)


def test_send_emails_the_pdf_once(team, january, api_as, mailbox, tmp_path):
    manager = api_as(team.manager)
    slip = _alice(january, team)
    draft = manager("POST", f"/api/payslips/{slip.pk}/send/")
    assert draft.status_code == 409 and draft.json()["error"]["code"] == "payslip_not_approved"
    services.payslip_approve(actor=team.manager, payslip=slip)
    first = manager("POST", f"/api/payslips/{slip.pk}/send/")
    assert first.status_code == 200 and first.json()["emailed"] is True
    assert first.json()["payslip"]["emailed_at"] is not None
    assert len(mailbox) == 1
    message = mailbox[0]
    assert message["To"] == "alice@example.test" and message["Subject"] == "Payslip 2026-01-001 from Acme"
    parts = list(message.walk())
    body = next(p for p in parts if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Net pay: 4775.00 USD" in body
    attachment = next(p for p in parts if p.get_content_type() == "application/pdf")
    assert attachment.get_filename() == "payslip-2026-01-001.pdf"
    assert "Net pay: $4,775.00" in pdf_text(attachment.get_payload(decode=True), tmp_path)
    second = manager("POST", f"/api/payslips/{slip.pk}/send/")
    assert second.status_code == 200 and second.json()["emailed"] is False
    assert len(mailbox) == 1
    assert api_as(team.alice)("POST", f"/api/payslips/{slip.pk}/send/").status_code == 403


def test_a_refused_email_releases_the_claim(team, january, settings, mailbox):
    slip = _alice(january, team)
    services.payslip_approve(actor=team.manager, payslip=slip)
    settings.EMAIL_PORT = 9  # nothing listens there
    from core.errors import Unavailable

    with pytest.raises(Unavailable) as exc:
        services.payslip_send(actor=team.manager, payslip=slip)
    assert exc.value.code == "mail_unavailable"
    assert Payslip.objects.get(pk=slip.pk).emailed_at is None
