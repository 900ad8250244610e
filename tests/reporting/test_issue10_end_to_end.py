"""Issue 10, end to end: `manage.py create_user` -> `manage.py import_transactions` -> `manage.py
tax_report`, per method where the rule depends on it, plus the automatic journals of the same rows.
Every figure is worked by hand below its file. Fiat printed at cents (half-even).

Rule 1 (gifts by jurisdiction), GBP:
  2024-01-10 buy 10 ETH for 1000 ......... pool / lot A: 10 ETH costing 1000 (100 each)
  2024-02-01 buy 1 ETH for 200 ........... lot B: 1 ETH costing 200
  2024-02-01 sell 1 ETH for 300
  2024-02-01 gift 1 ETH worth 250
  uk: the day's sell and gift are one disposal of 2 ETH, proceeds 300 + 250 = 550; same day: 1 ETH
      at 200; pool: 1 ETH of 10 costing 1000 = 100; cost 300, gain 250.
  acb: pool 11 ETH costing 1200 (109.0909.. each); sell: 300 - 109.09 = 190.91; gift (a deemed
      disposition at fair market value): 250 - 109.09 = 140.91.
  fifo (US rules): the gift is no disposal; the sell takes lot A: 300 - 100 = 200; no gift row.
Rule 2 (lost), GBP, uk:
  2024-01-10 buy 10 ETH for 1000; 2024-02-01 09:00 lost 1 ETH; 2024-02-01 10:00 buy 1 ETH for 200;
  2024-03-01 sell 1 ETH for 300. The loss is no disposal and is NOT matched with the same day's buy:
  the buy joins the pool (11 ETH, 1200), the lost ETH leave at the average (109.0909..); the March
  sell costs 1090.909../10 = 109.09, gain 190.91 (matched same-day it would have been 100 / 200).
  No row for the loss. fifo: the loss takes lot A's 100, the sell the next of lot A: 300 - 100 = 200.
Rule 3 (a fiat fee on a cost spend), USD, every method:
  2024-01-01 buy 1 ETH for 2000; 2024-02-04 spend 0.1 ETH worth 270.00 with a 1.50 USD fee:
  proceeds 268.50, cost 200.00, gain 68.50.
Rule 4 (a fee on income), USD, every method:
  2024-01-05 staking 1 ETH worth 2100.00 with a 5.00 USD fee: lot cost 2105.00, income 2100.00;
  2024-03-01 sell 1 ETH for 2500: cost 2105.00, gain 395.00.
Rule 5 (fee-only rows), USD, every method:
  2024-01-01 buy 1 ETH for 2000; 2024-01-02 fee-only 0.01 ETH worth 25.00: disposal of 0.01 ETH,
  proceeds 25.00, cost 20.00, gain 5.00; 2024-01-03 fee-only 1.50 USD: no holdings change, no row
  (an expense in the books).
Rule 6 (duplicates), USD, fifo: two identical buys of 1 ETH for 1000 (no TxHash), then two identical
  sells of 1 ETH for 1500: two disposals of 1 ETH, proceeds 1500, cost 1000, gain 500 each; importing
  the same file again adds nothing and the report is the same.
"""

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

HEADER = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
          "Net Worth Amount,Net Worth Currency,Label,Description,TxHash")

GIFT = "\n".join([
    HEADER,
    "2024-01-10 09:00:00,1000,GBP,10,ETH,,,,,,buy,",
    "2024-02-01 09:00:00,200,GBP,1,ETH,,,,,,buy,",
    "2024-02-01 10:00:00,1,ETH,300,GBP,,,,,,sell,",
    "2024-02-01 11:00:00,1,ETH,,,,,250,GBP,gift,to a friend,",
]) + "\n"
LOST = "\n".join([
    HEADER,
    "2024-01-10 09:00:00,1000,GBP,10,ETH,,,,,,buy,",
    "2024-02-01 09:00:00,1,ETH,,,,,,,lost,lost keys,",
    "2024-02-01 10:00:00,200,GBP,1,ETH,,,,,,buy,",
    "2024-03-01 10:00:00,1,ETH,300,GBP,,,,,,sell,",
]) + "\n"
COST_FEE = "\n".join([
    HEADER,
    "2024-01-01 09:00:00,2000,USD,1,ETH,,,,,,buy,",
    "2024-02-04 10:00:00,0.1,ETH,,,1.50,USD,270.00,USD,cost,,0xa3",
]) + "\n"
INCOME_FEE = "\n".join([
    HEADER,
    "2024-01-05,,,1,ETH,5.00,USD,2100.00,USD,staking,,",
    "2024-03-01 10:00:00,1,ETH,2500,USD,,,,,,sell,",
]) + "\n"
FEE_ONLY = "\n".join([
    HEADER,
    "2024-01-01 09:00:00,2000,USD,1,ETH,,,,,,buy,",
    "2024-01-02 10:00:00,,,,,0.01,ETH,25.00,USD,,network fee,0x2",
    "2024-01-03 10:00:00,,,,,1.50,USD,,,,bank fee,",
]) + "\n"
DUPLICATES = "\n".join([
    HEADER,
    "2024-03-01 10:00:00,1000,USD,1,ETH,,,,,,buy,",
    "2024-03-01 10:00:00,1000,USD,1,ETH,,,,,,buy,",
    "2024-03-02 10:00:00,1,ETH,1500,USD,,,,,,sell,",
    "2024-03-02 10:00:00,1,ETH,1500,USD,,,,,,sell,",
]) + "\n"
ALL_METHODS = ["fifo", "lifo", "hifo", "acb", "uk"]


def _user(username, fiat, method=None):
    call_command("create_user", "--username", username, "--email", f"{username}@example.test", "--fiat", fiat,
                 stdout=io.StringIO())
    if method:
        from accounts.models import User

        organization = User.objects.get(username=username).organization
        organization.cost_basis_method = method
        organization.save(update_fields=["cost_basis_method"])


def _import(username, text, tmp_path) -> str:
    source = tmp_path / f"{username}.csv"
    source.write_text(text)
    out = io.StringIO()
    call_command("import_transactions", "--user", username, "--format", "universal", str(source), stdout=out)
    return out.getvalue()


def _report(username, tmp_path, *args) -> list[list[str]]:
    output = tmp_path / f"{username}-report.csv"
    call_command("tax_report", "--user", username, *args, "--output", str(output), stderr=io.StringIO())
    rows = list(csv.reader(output.read_text().splitlines()))
    assert rows[0] == ["asset", "quantity", "date_acquired", "date_disposed", "proceeds", "cost_basis", "gain", "term"]
    return rows[1:]


def _figures(rows):
    """asset, quantity, date_disposed, proceeds, cost_basis, gain of each row."""
    return [[r[0], r[1], r[3], r[4], r[5], r[6]] for r in rows]


def _entries(username):
    """The posted automatic entries of the user's organization: {description: {(account, asset): (debit, credit)}}."""
    from accounts.models import User
    from ledger.models import EntryStatus, FinancialAccount, JournalEntry

    organization_id = User.objects.get(username=username).organization_id
    names = {a.account_code: a.account_code if a.account_code.startswith("1200-") else a.system_key or a.account_code
             for a in FinancialAccount.objects.filter(organization_id=organization_id)}
    found = {}
    for entry in JournalEntry.objects.filter(organization_id=organization_id, status=EntryStatus.POSTED,
                                             source_key__startswith="auto:").order_by("date"):
        assert entry.total_debit == entry.total_credit
        lines = {}
        for line in entry.line_items:
            key = names[line.account_code]
            debit, credit = lines.get(key, (Decimal(0), Decimal(0)))
            lines[key] = (debit + Decimal(line.debit_amount or 0), credit + Decimal(line.credit_amount or 0))
        found[entry.description] = lines
    return found, organization_id


def _trial_balance_is_balanced(organization_id):
    from ledger.selectors import trial_balance

    balance = trial_balance(organization_id=organization_id)
    assert balance["total_debit"] == balance["total_credit"]


# --- rule 1: gifts by jurisdiction --------------------------------------------------------------------
def test_uk_gift_is_part_of_the_days_single_disposal(tmp_path):
    _user("ukgift", "GBP", method="uk")
    _import("ukgift", GIFT, tmp_path)
    rows = _report("ukgift", tmp_path, "--method", "uk", "--year", "2023")  # 2023-04-06 .. 2024-04-05
    assert _figures(rows) == [["ETH", "2", "2024-02-01", "550.00", "300.00", "250.00"]]
    assert rows[0][7] == "short"
    # The books (uk, the organization's method): the day's cost 300 is shared by quantity, 150 each;
    # the gift is given away at its market value 250 with its gain of 100.
    entries, organization_id = _entries("ukgift")
    gift = entries["Gift of 1 ETH"]
    assert gift["general_expenses"] == (Decimal("250"), 0)
    assert gift["1200-ETH"] == (0, Decimal("150"))
    assert gift["realised_gains"] == (0, Decimal("100"))
    assert entries["Sell 1 ETH"]["realised_gains"] == (0, Decimal("150"))
    _trial_balance_is_balanced(organization_id)


def test_acb_gift_is_a_deemed_disposition_at_fair_market_value(tmp_path):
    _user("acbgift", "GBP", method="acb")
    _import("acbgift", GIFT, tmp_path)
    rows = _report("acbgift", tmp_path, "--method", "acb", "--year", "2024")
    assert _figures(rows) == [["ETH", "1", "2024-02-01", "300.00", "109.09", "190.91"],
                              ["ETH", "1", "2024-02-01", "250.00", "109.09", "140.91"]]
    entries, organization_id = _entries("acbgift")
    assert entries["Gift of 1 ETH"]["general_expenses"] == (Decimal("250"), 0)
    _trial_balance_is_balanced(organization_id)


@pytest.mark.parametrize("method", ["fifo", "lifo", "hifo"])
def test_us_gift_is_no_disposal(tmp_path, method):
    _user("usgift", "GBP", method=method)
    _import("usgift", GIFT, tmp_path)
    rows = _report("usgift", tmp_path, "--method", method, "--year", "2024")
    # fifo: lot A (100); lifo and hifo: lot B (200, the latest and the dearest).
    cost, gain = ("100.00", "200.00") if method == "fifo" else ("200.00", "100.00")
    assert _figures(rows) == [["ETH", "1", "2024-02-01", "300.00", cost, gain]]
    entries, organization_id = _entries("usgift")
    # Given away at cost (fifo: the next unit of lot A, 100; lifo/hifo: lot A's latest unit, 100).
    assert entries["Gift of 1 ETH"]["general_expenses"] == (Decimal("100"), 0)
    assert "realised_gains" not in entries["Gift of 1 ETH"]
    _trial_balance_is_balanced(organization_id)


def test_a_uk_gift_without_a_value_fails_naming_the_line(tmp_path):
    _user("ukgift2", "GBP", method="uk")
    with pytest.raises(CommandError, match="nothing was imported"):
        _import("ukgift2", GIFT.replace(",250,GBP,gift", ",,,gift"), tmp_path)


# --- rule 2: lost -----------------------------------------------------------------------------------------
def test_uk_lost_is_no_disposal_and_not_matched_same_day(tmp_path):
    _user("uklost", "GBP", method="uk")
    _import("uklost", LOST, tmp_path)
    rows = _report("uklost", tmp_path, "--method", "uk", "--year", "2023")
    assert _figures(rows) == [["ETH", "1", "2024-03-01", "300.00", "109.09", "190.91"]]
    entries, organization_id = _entries("uklost")
    # Written off at the pool's average cost to an expense, no gain or loss.
    lost = entries["Lost of 1 ETH"]
    assert lost["1200-ETH"][1].quantize(Decimal("0.01")) == Decimal("109.09")
    assert lost["general_expenses"][0] == lost["1200-ETH"][1]
    assert "realised_gains" not in lost and "realised_losses" not in lost
    _trial_balance_is_balanced(organization_id)


def test_fifo_lost_leaves_at_cost_without_a_row(tmp_path):
    _user("fifolost", "GBP")
    _import("fifolost", LOST, tmp_path)
    assert _figures(_report("fifolost", tmp_path, "--method", "fifo", "--year", "2024")) == [
        ["ETH", "1", "2024-03-01", "300.00", "100.00", "200.00"]]


# --- rule 3: a fiat fee on a cost spend -------------------------------------------------------------------
@pytest.mark.parametrize("method", ALL_METHODS)
def test_fiat_fee_on_a_cost_spend_is_a_disposal_cost(tmp_path, method):
    _user("spender", "USD", method=method)
    _import("spender", COST_FEE, tmp_path)
    rows = _report("spender", tmp_path, "--method", method, "--start", "2024-01-01", "--end", "2024-12-31")
    assert _figures(rows) == [["ETH", "0.1", "2024-02-04", "268.50", "200.00", "68.50"]]
    entries, organization_id = _entries("spender")
    spend = entries["Cost of 0.1 ETH"]
    # Expense 268.50 + the 1.50 fee (gas, paid from the bank) = the 270.00 the payment was worth.
    assert spend["general_expenses"] == (Decimal("268.50"), 0)
    assert spend["gas_fees"] == (Decimal("1.50"), 0) and spend["bank"] == (0, Decimal("1.50"))
    assert spend["realised_gains"] == (0, Decimal("68.50"))
    _trial_balance_is_balanced(organization_id)


# --- rule 4: a fee on income ----------------------------------------------------------------------------
@pytest.mark.parametrize("method", ALL_METHODS)
def test_fee_on_income_is_part_of_its_cost(tmp_path, method):
    _user("staker", "USD", method=method)
    _import("staker", INCOME_FEE, tmp_path)
    rows = _report("staker", tmp_path, "--method", method, "--start", "2024-01-01", "--end", "2024-12-31")
    assert _figures(rows) == [["ETH", "1", "2024-03-01", "2500.00", "2105.00", "395.00"]]
    entries, organization_id = _entries("staker")
    income = entries["Staking 1 ETH"]
    # The income is the fair value (2100), the asset costs 2105, the fee is paid from the bank: no gas.
    assert income == {"1200-ETH": (Decimal("2105"), 0), "crypto_income": (0, Decimal("2100")),
                      "bank": (0, Decimal("5"))}
    _trial_balance_is_balanced(organization_id)


def test_income_fee_in_the_xlsx_income_sheet_is_the_fair_value(tmp_path):
    from openpyxl import load_workbook

    _user("staker2", "USD")
    _import("staker2", INCOME_FEE, tmp_path)
    xlsx = tmp_path / "income.xlsx"
    call_command("tax_report", "--user", "staker2", "--year", "2024", "--format", "xlsx", "--output", str(xlsx),
                 stderr=io.StringIO())
    income = list(load_workbook(xlsx)["Income"].iter_rows(values_only=True))
    assert income[1][:4] == ("2024-01-05", "ETH", 1, 2100)


# --- rule 5: fee-only rows ------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ALL_METHODS)
def test_fee_only_rows(tmp_path, method):
    _user("gaspayer", "USD", method=method)
    out = _import("gaspayer", FEE_ONLY, tmp_path)
    assert out.startswith("imported 3 transaction(s) from 3 row(s); 0 duplicate(s) skipped")
    rows = _report("gaspayer", tmp_path, "--method", method, "--start", "2024-01-01", "--end", "2024-12-31")
    assert _figures(rows) == [["ETH", "0.01", "2024-01-02", "25.00", "20.00", "5.00"]]
    entries, organization_id = _entries("gaspayer")
    assert entries["Network fee (ETH)"] == {"1200-ETH": (0, Decimal("20")), "realised_gains": (0, Decimal("5")),
                                            "gas_fees": (Decimal("25"), 0)}
    assert entries["Network fee (USD)"] == {"gas_fees": (Decimal("1.50"), 0), "bank": (0, Decimal("1.50"))}
    _trial_balance_is_balanced(organization_id)


# --- rule 6: duplicates ---------------------------------------------------------------------------------
def test_identical_rows_are_two_trades_and_a_reimport_adds_nothing(tmp_path):
    _user("twins", "USD")
    assert _import("twins", DUPLICATES, tmp_path).startswith(
        "imported 4 transaction(s) from 4 row(s); 0 duplicate(s) skipped")
    expected = [["ETH", "1", "2024-03-02", "1500.00", "1000.00", "500.00"]] * 2
    assert _figures(_report("twins", tmp_path, "--method", "fifo", "--year", "2024")) == expected
    again = _import("twins", DUPLICATES, tmp_path)
    assert again.startswith("imported 0 transaction(s) from 4 row(s); 4 duplicate(s) skipped")
    assert "row 3 skipped: already imported: an identical row (copy 2 in this file)" in again
    assert _figures(_report("twins", tmp_path, "--method", "fifo", "--year", "2024")) == expected


# --- rows sharing a TxHash ------------------------------------------------------------------------------
# A swap written as two rows: 2024-01-01 buy 1 ETH for 1500; 2024-02-01 one row sends 1 ETH and another
# receives 2000 USDC worth 2000.00, both with TxHash 0xswap: one swap, a disposal of 1 ETH, proceeds
# 2000.00, cost 1500.00, gain 500.00 (the USDC lot costs 2000). Three one-sided rows under one hash
# are no single trade: the report fails naming the hash rather than reading one row and dropping two.
SPLIT_SWAP = "\n".join([
    HEADER,
    "2024-01-01 09:00:00,1500,USD,1,ETH,,,,,,buy,",
    "2024-02-01 10:00:00,1,ETH,,,,,2000.00,USD,,swap out,0xswap",
    "2024-02-01 10:00:00,,,2000,USDC,,,2000.00,USD,,swap in,0xswap",
]) + "\n"


def test_a_swap_written_as_a_send_row_and_a_receive_row_is_one_swap(tmp_path):
    _user("splitswap", "USD")
    _import("splitswap", SPLIT_SWAP, tmp_path)
    rows = _report("splitswap", tmp_path, "--method", "fifo", "--year", "2024")
    assert _figures(rows) == [["ETH", "1", "2024-02-01", "2000.00", "1500.00", "500.00"]]


def test_rows_sharing_a_hash_that_are_no_single_trade_fail_naming_it(tmp_path):
    _user("threeparts", "USD")
    _import("threeparts", SPLIT_SWAP.replace("0xswap\n", "0xswap\n", 1)
            + "2024-02-01 10:00:00,,,5,USDC,,,5.00,USD,,bonus,0xswap\n", tmp_path)
    with pytest.raises(CommandError, match="0xswap"):
        _report("threeparts", tmp_path, "--method", "fifo", "--year", "2024")
