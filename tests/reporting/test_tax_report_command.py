"""`manage.py import_transactions` then `manage.py tax_report`: the end-to-end path on the real database.

`tax_report --user U` reports on U's organization (its members' transactions, its fiat, its
cost-basis method unless --method is given); for a user with an organization of their own that is
only U's data.

The Koinly file below, worked by hand (USD):
  2024-01-10 buy 1 BTC for 10,000 + 10 fee ........ lot A: 1 BTC costing 10,010
  2024-03-01 buy 1 BTC for 20,000 .................. lot B: 1 BTC costing 20,000
  2024-06-01 sell 1.5 BTC for 45,000, fee 30 ....... proceeds 44,970; FIFO cost = A 10,010 + half of B
                                                     10,000 = 20,010; gain 24,960 (short)
  2025-02-01 swap 0.5 BTC -> 10 ETH, worth 30,000, fee 0.01 ETH (in the received asset)
             fee value = 0.01 x 30,000 / 10 = 30 ... BTC disposal: proceeds 30,000 - 30 = 29,970, cost =
                                                     rest of B 10,000, gain 19,970 (short: 2024-03-01 ->
                                                     2025-02-01 is under a year)
                                                     ETH lot C: 10 ETH costing 30,000 (3,000 each); the
                                                     0.01 ETH fee is disposed at 30, cost 30, gain 0
  2025-03-15 staking reward 1 ETH worth 2,500 ...... income 2,500; lot D: 1 ETH costing 2,500
  2025-06-01 sell 5 ETH for 16,000 ................. FIFO: 5 from C at 3,000 = 15,000; gain 1,000
  2025-07-01 sell 1 ETH for 2,000 .................. FIFO: 1 from C = 3,000; loss 1,000
Totals: 2024 proceeds 44,970, cost 20,010, gains 24,960, losses 0, net 24,960;
        2025 proceeds 29,970 + 30 + 16,000 + 2,000 = 48,000, cost 10,000 + 30 + 15,000 + 3,000 = 28,030,
        gains 19,970 + 1,000 = 20,970, losses 1,000, net 19,970.
"""

import csv
import io
import subprocess

import pytest
from django.core.management import CommandError, call_command

KOINLY = """Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash
2024-01-10 09:00:00,10000,USD,1,BTC,10,USD,,,,first buy,
2024-03-01 09:00:00,20000,USD,1,BTC,,,,,,second buy,
2024-06-01 09:00:00,1.5,BTC,45000,USD,30,USD,,,,sell,
2025-02-01 09:00:00,0.5,BTC,10,ETH,0.01,ETH,30000,USD,,swap,0xswap
2025-03-15 09:00:00,,,1,ETH,,,2500,USD,staking,reward,
2025-06-01 09:00:00,5,ETH,16000,USD,,,,,,sell eth,
2025-07-01 09:00:00,1,ETH,2000,USD,,,,,,sell eth at a loss,
"""
HEADER = "asset,quantity,date_acquired,date_disposed,proceeds,cost_basis,gain,term"


def _report(tmp_path, *args) -> list[list[str]]:
    output = tmp_path / "out.csv"
    call_command("tax_report", "--user", "taxpayer", *args, "--output", str(output), stderr=io.StringIO())
    return list(csv.reader(output.read_text().splitlines()))


def test_fifo_disposals_per_year_match_the_hand_worked_figures(taxpayer, tmp_path):
    rows_2024 = _report(tmp_path, "--method", "fifo", "--year", "2024", "--format", "csv")
    assert rows_2024[0] == HEADER.split(",")
    assert rows_2024[1:] == [["BTC", "1.5", "various", "2024-06-01", "44970.00", "20010.00", "24960.00", "short"]]

    rows_2025 = _report(tmp_path, "--method", "fifo", "--year", "2025")
    assert sorted(rows_2025[1:]) == sorted([
        ["BTC", "0.5", "2024-03-01", "2025-02-01", "29970.00", "10000.00", "19970.00", "short"],
        ["ETH", "0.01", "2025-02-01", "2025-02-01", "30.00", "30.00", "0.00", "short"],
        ["ETH", "5", "2025-02-01", "2025-06-01", "16000.00", "15000.00", "1000.00", "short"],
        ["ETH", "1", "2025-02-01", "2025-07-01", "2000.00", "3000.00", "-1000.00", "short"],
    ])


def test_totals_per_calendar_year(taxpayer, tmp_path):
    rows = _report(tmp_path, "--method", "fifo", "--start", "2024-01-01", "--end", "2025-12-31", "--totals")
    assert rows == [
        ["year", "proceeds", "cost_basis", "gains", "losses", "net"],
        ["2024", "44970.00", "20010.00", "24960.00", "0.00", "24960.00"],
        ["2025", "48000.00", "28030.00", "20970.00", "1000.00", "19970.00"],
    ]


def test_lifo_and_a_uk_tax_year(taxpayer, tmp_path):
    # LIFO 2024: the 1.5 BTC come from B (1 BTC, 20,000) then half of A (5,005): cost 25,005,
    # gain 44,970 - 25,005 = 19,965.
    rows = _report(tmp_path, "--method", "lifo", "--year", "2024")
    assert rows[1][4:7] == ["44970.00", "25005.00", "19965.00"]
    # UK tax year 2024 = 2024-04-06 .. 2025-04-05: the June sell and the February swap. Pool after
    # both buys: 2 BTC costing 30,010; June: 1.5/2 of it = 22,507.50, gain 22,462.50; February:
    # the remaining 7,502.50, gain 29,970 - 7,502.50 = 22,467.50; the ETH fee 0.01 from the pool of
    # 10 ETH costing 30,000 = 30, gain 0. Proceeds 44,970 + 29,970 + 30 = 74,970.
    totals = _report(tmp_path, "--method", "uk", "--year", "2024", "--totals")
    assert totals[1:] == [["2024", "74970.00", "30040.00", "44930.00", "0.00", "44930.00"]]


def test_xlsx_and_pdf(taxpayer, tmp_path):
    from openpyxl import load_workbook

    xlsx = tmp_path / "report.xlsx"
    call_command("tax_report", "--user", "taxpayer", "--method", "fifo", "--year", "2025", "--format", "xlsx",
                 "--output", str(xlsx), stderr=io.StringIO())
    book = load_workbook(xlsx)
    assert book.sheetnames == ["Summary", "Disposals", "Income"]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Net gain"] == pytest.approx(19970) and isinstance(summary["Net gain"], (int, float))
    assert summary["Income"] == pytest.approx(2500) and summary["Taxable events"] == 4
    income = list(book["Income"].iter_rows(values_only=True))
    assert income[1][:4] == ("2025-03-15", "ETH", 1, 2500)

    pdf = tmp_path / "report.pdf"
    call_command("tax_report", "--user", "taxpayer", "--method", "fifo", "--year", "2025", "--format", "pdf",
                 "--output", str(pdf), stderr=io.StringIO())
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Capital gains tax report" in text and "19,970.00" in text and "-1,000.00" in text


def test_bad_arguments_are_clear_errors(taxpayer, tmp_path):
    cases = [
        (["--user", "nobody", "--year", "2024"], "no user"),
        (["--user", "taxpayer"], "--year"),
        (["--user", "taxpayer", "--year", "2024", "--start", "2024-01-01"], "not both"),
        (["--user", "taxpayer", "--start", "2024-13-01", "--end", "2024-12-31"], "not a date"),
        (["--user", "taxpayer", "--start", "2024-12-31", "--end", "2024-01-01"], "before it starts"),
        (["--user", "taxpayer", "--year", "2024", "--format", "pdf"], "--output"),
        (["--user", "taxpayer", "--year", "2024", "--format", "xlsx", "--totals", "--output", str(tmp_path / "x")],
         "--totals"),
        (["--user", "taxpayer", "--year", "2024", "--output", str(tmp_path / "missing" / "out.csv")], "does not exist"),
    ]
    for args, message in cases:
        with pytest.raises(CommandError, match=message):
            call_command("tax_report", *args, stdout=io.StringIO(), stderr=io.StringIO())


def test_selling_more_than_held_names_asset_date_and_shortfall(make_user, tmp_path):
    make_user(username="taxpayer")
    source = tmp_path / "oversell.csv"
    source.write_text(KOINLY.splitlines()[0] + "\n"
                      "2024-01-10 09:00:00,1000,USD,1,ETH,,,,,,buy,\n"
                      "2024-02-10 09:00:00,1.25,ETH,3000,USD,,,,,,sell too much,\n")
    call_command("import_transactions", str(source), user="taxpayer", format="universal", stdout=io.StringIO())
    output = tmp_path / "out.csv"
    with pytest.raises(CommandError, match=r"ETH.*2024-02-10.*0\.25"):
        call_command("tax_report", "--user", "taxpayer", "--method", "fifo", "--year", "2024", "--output",
                     str(output), stderr=io.StringIO())
    assert not output.exists()  # nothing half-written


def test_other_organizations_never_see_each_others_trades(taxpayer, make_user, make_organization, tmp_path):
    make_user(username="other", organization=make_organization("Other Ltd"))
    output = tmp_path / "other.csv"
    call_command("tax_report", "--user", "other", "--method", "fifo", "--year", "2024", "--output", str(output),
                 stderr=io.StringIO())
    assert output.read_text().splitlines() == [HEADER]


def test_a_member_reports_the_organizations_books(taxpayer, make_user, tmp_path):
    """`--user U` names whose organization: "colleague" recorded nothing, but shares Acme with the
    taxpayer, so the report is Acme's books, the taxpayer's transactions included (the same rows
    as `--user taxpayer`). The stderr line still names U, as before organizations."""
    make_user(username="colleague")
    output = tmp_path / "colleague.csv"
    stderr = io.StringIO()
    call_command("tax_report", "--user", "colleague", "--method", "fifo", "--year", "2024", "--output", str(output),
                 stderr=stderr)
    rows = list(csv.reader(output.read_text().splitlines()))
    assert rows[1:] == [["BTC", "1.5", "various", "2024-06-01", "44970.00", "20010.00", "24960.00", "short"]]
    assert rows == _report(tmp_path, "--method", "fifo", "--year", "2024")
    assert stderr.getvalue().startswith("colleague: 1 disposal(s) 2024-01-01 to 2024-12-31 (fifo, USD) written to")


def test_the_organizations_method_is_the_default(taxpayer, tmp_path):
    taxpayer.organization.cost_basis_method = "lifo"
    taxpayer.organization.save(update_fields=["cost_basis_method"])
    rows = _report(tmp_path, "--year", "2024")
    assert rows[1][4:7] == ["44970.00", "25005.00", "19965.00"]  # LIFO, as in test_lifo_and_a_uk_tax_year


def test_csv_to_standard_output(taxpayer):
    out = io.StringIO()
    call_command("tax_report", "--user", "taxpayer", "--method", "hifo", "--year", "2024", stdout=out,
                 stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    # HIFO: the 20,000 lot first (1 BTC), then half of the 10,010 lot (5,005): same as LIFO here.
    assert lines[0] == HEADER and lines[1].split(",")[5] == "25005.00"
