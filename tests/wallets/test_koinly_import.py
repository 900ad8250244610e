"""Koinly universal CSV: the pure parser, the import service (all or nothing, duplicates), the
`import_transactions` command with its exact interface, the API upload and the export round trip."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.core.files.uploadedfile import SimpleUploadedFile

from wallets import koinly_format
from wallets.imports import transactions_export_universal
from wallets.models import Transaction

HEADER = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
          "Net Worth Amount,Net Worth Currency,Label,Description,TxHash")
GOOD = "\n".join([
    HEADER,
    "2025-01-10 10:00:00,1000,USD,0.5,ETH,2,USD,,,,Bought ETH,0xaaa",
    "2025-02-01 09:30:00,0.2,ETH,700,USD,0.001,ETH,,,,Sold some,0xbbb",
    "2025-03-05 12:00:00,0.1,ETH,300,DUSD,,,310,USD,,Swap,0xccc",
    "2025-04-01 00:00:00,,,0.05,ETH,,,150,USD,staking,Validator reward,",
    "2025-04-02 00:00:00,0.01,ETH,,,,,30,USD,cost,Hosting,",
    "2025-04-03 00:00:00,100,USD,,,,,,,,Fiat deposit,",
]) + "\n"


# --- the pure parser ---------------------------------------------------------------------------
def test_rows_become_movements():
    result = koinly_format.parse_universal(GOOD)
    assert result.errors == [] and result.ignored_rows == 1
    kinds = [(m.kind, m.asset, m.amount, m.fiat_value) for m in result.movements]
    assert kinds == [
        ("BUY", "ETH", Decimal("0.5"), Decimal("1000")),
        ("SELL", "ETH", Decimal("0.2"), Decimal("700")),
        ("SELL", "ETH", Decimal("0.1"), Decimal("310")),
        ("BUY", "DUSD", Decimal("300"), Decimal("310")),
        ("INCOME", "ETH", Decimal("0.05"), Decimal("150")),
        ("EXPENSE", "ETH", Decimal("0.01"), Decimal("30")),
    ]
    assert result.movements[0].fee_fiat == Decimal("2") and result.movements[1].fee == Decimal("0.001")
    assert result.movements[2].identity == "tx:0xccc:0" and result.movements[3].identity == "tx:0xccc:1"


def test_every_bad_row_is_reported_with_row_and_column():
    text = "\n".join([
        HEADER,
        "2025-13-40 10:00:00,1,USD,1,ETH,,,,,,,",
        "2025-01-01 00:00:00,abc,ETH,,,,,,,,,",
        "2025-01-01 00:00:00,,,-3,ETH,,,,,,,",
        "2025-01-01 00:00:00,1,,,,,,,,,,",
        "2025-01-01 00:00:00,,,,,,,,,,,",
        "2025-01-01 00:00:00,1,ETH",
        "2025-01-01 00:00:00,,,1,ETH,,,5,BTC,,,",
    ])
    errors = {(e.row, e.column) for e in koinly_format.parse_universal(text).errors}
    assert errors == {(2, "Date"), (3, "Sent Amount"), (4, "Received Amount"), (5, "Sent Currency"),
                      (6, "Sent Amount"), (7, "row"), (8, "Net Worth Currency")}


def test_wrong_header_is_one_clear_error():
    errors = koinly_format.parse_universal("Date,Amount\n2025-01-01,1\n").errors
    assert [(e.row, e.column) for e in errors] == [(1, "header")]


def test_same_row_twice_without_a_txhash_is_two_trades_with_one_a_duplicate():
    # Issue 10, rule 6: two buys in the same second at the same price happen; with a TxHash the
    # rows are one transaction, so the exact repeat is a duplicate (reported with its row).
    line = "2025-04-01 00:00:00,,,0.05,ETH,,,150,USD,staking,Validator reward,"
    result = koinly_format.parse_universal("\n".join([HEADER, line, line]))
    assert len(result.movements) == 2 and result.duplicate_rows == 0
    assert result.movements[0].identity != result.movements[1].identity
    assert result.movements[1].identity.endswith("~2:0")
    hashed = line + "0xabc"
    result = koinly_format.parse_universal("\n".join([HEADER, hashed, hashed]))
    assert len(result.movements) == 1 and result.duplicate_rows == 1
    assert [(s.row, s.reason) for s in result.skipped] == [(3, "duplicate of row 2 (same TxHash 0xabc, same content)")]


def test_fee_only_rows_and_fiat_fees_on_one_sided_rows():
    text = "\n".join([
        HEADER,
        "2024-01-02 10:00:00,,,,,0.01,ETH,25.00,USD,,network fee,0x2",
        "2024-01-03 10:00:00,,,,,1.50,USD,,,,bank fee,",
        "2024-01-05 00:00:00,,,1,ETH,5.00,USD,2100.00,USD,staking,,",
        "2024-02-04 10:00:00,0.1,ETH,,,1.50,USD,270.00,USD,cost,,0xa3",
        "2024-02-05 10:00:00,,,,,0.01,ETH,,,,no worth,",
    ])
    result = koinly_format.parse_universal(text)
    assert [(e.row, e.column) for e in result.errors] == [(6, "Net Worth Amount")]
    assert [(m.row, m.kind, m.asset, m.amount, m.fiat_value) for m in result.movements] == [
        (2, "FEE", "ETH", Decimal("0.01"), Decimal("25.00")),
        (3, "FEE", "USD", Decimal("1.50"), Decimal("1.50")),
        (4, "INCOME", "ETH", Decimal("1"), Decimal("2100.00")),
        (4, "FEE", "USD", Decimal("5.00"), Decimal("5.00")),
        (5, "EXPENSE", "ETH", Decimal("0.1"), Decimal("270.00")),
        (5, "FEE", "USD", Decimal("1.50"), Decimal("1.50")),
    ]


# --- command, service and API ----------------------------------------------------------------------
@pytest.fixture
def csv_file(tmp_path):
    def write(text):
        path = tmp_path / "universal.csv"
        path.write_text(text)
        return str(path)
    return write


@pytest.mark.django_db
def test_command_imports_then_skips_duplicates(make_user, csv_file):
    user = make_user(username="ivy")
    out = io.StringIO()
    call_command("import_transactions", "--user", "ivy", "--format", "universal", csv_file(GOOD), stdout=out)
    assert "imported 6 transaction(s) from 6 row(s)" in out.getvalue()
    assert Transaction.objects.filter(user=user, source="import").count() == 6
    buy = Transaction.objects.get(user=user, transaction_type="BUY", cryptocurrency__symbol="ETH")
    assert buy.total_cost_usd == Decimal("1002") and buy.price_at_transaction == Decimal("2000")
    sell = Transaction.objects.get(user=user, transaction_type="SELL", hash="0xbbb")
    assert sell.fee == Decimal("0.001") and sell.usd_value == Decimal("700")

    again = io.StringIO()
    call_command("import_transactions", "--user", "ivy", "--format", "universal", csv_file(GOOD), stdout=again)
    assert "imported 0 transaction(s)" in again.getvalue() and "5 duplicate(s) skipped" in again.getvalue()
    assert Transaction.objects.filter(user=user).count() == 6
    # Row by row, what was skipped and why.
    assert "row 2 skipped: already imported: TxHash 0xaaa" in again.getvalue()
    assert "row 5 skipped: already imported: an identical row" in again.getvalue()
    assert "row 7 skipped: fiat only, no fee: nothing to track" in again.getvalue()


@pytest.mark.django_db
def test_identical_rows_without_txhash_are_two_trades_and_a_reimport_adds_nothing(make_user, csv_file):
    from ledger.tax_trades import tax_trades_for

    user = make_user(username="ivy")
    buy = "2024-03-01 10:00:00,1000,USD,1,ETH,,,,,,buy,"
    sell = "2024-03-02 10:00:00,1,ETH,1500,USD,,,,,,sell,"
    text = "\n".join([HEADER, buy, buy, sell, sell]) + "\n"
    out = io.StringIO()
    call_command("import_transactions", "--user", "ivy", "--format", "universal", csv_file(text), stdout=out)
    assert "imported 4 transaction(s) from 4 row(s); 0 duplicate(s) skipped" in out.getvalue()
    trades = tax_trades_for(user.organization).trades
    assert [(t.sent_asset, t.sent_amount, t.received_asset, t.received_amount) for t in trades] == [
        ("USD", Decimal("1000"), "ETH", Decimal("1")), ("USD", Decimal("1000"), "ETH", Decimal("1")),
        ("ETH", Decimal("1"), "USD", Decimal("1500")), ("ETH", Decimal("1"), "USD", Decimal("1500"))]

    again = io.StringIO()
    call_command("import_transactions", "--user", "ivy", "--format", "universal", csv_file(text), stdout=again)
    lines = again.getvalue().splitlines()
    assert lines[0].startswith("imported 0 transaction(s) from 4 row(s); 4 duplicate(s) skipped")
    assert lines[1:] == ["row 2 skipped: already imported: an identical row",
                         "row 3 skipped: already imported: an identical row (copy 2 in this file)",
                         "row 4 skipped: already imported: an identical row",
                         "row 5 skipped: already imported: an identical row (copy 2 in this file)"]
    assert Transaction.objects.filter(user=user).count() == 4

    # A later export holding one more copy of the buy: only that copy is new.
    more = "\n".join([HEADER, buy, buy, buy, sell, sell]) + "\n"
    third = io.StringIO()
    call_command("import_transactions", "--user", "ivy", "--format", "universal", csv_file(more), stdout=third)
    assert third.getvalue().startswith("imported 1 transaction(s) from 5 row(s); 4 duplicate(s) skipped")
    assert Transaction.objects.filter(user=user).count() == 5


@pytest.mark.django_db
def test_a_gift_without_net_worth_is_an_input_error_under_uk_and_acb(make_user, make_organization, csv_file):
    text = HEADER + "\n2024-01-10 10:00:00,1000,GBP,10,ETH,,,,,,,\n2024-02-01 10:00:00,1,ETH,,,,,,,gift,to a friend,\n"
    make_user(username="ukgiver", organization=make_organization("UK", reporting_fiat="GBP", cost_basis_method="uk"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_transactions", "--user", "ukgiver", "--format", "universal", csv_file(text), stderr=err)
    assert "row 3, Net Worth Amount: a gift is a disposal at market value under the uk method" in err.getvalue()
    make_user(username="usgiver", organization=make_organization("US", reporting_fiat="GBP"))
    call_command("import_transactions", "--user", "usgiver", "--format", "universal", csv_file(text),
                 stdout=io.StringIO())  # fifo: a gift leaves at cost, no value needed


@pytest.mark.django_db
def test_one_bad_row_imports_nothing(make_user, csv_file):
    make_user(username="ivy")
    bad = GOOD + "2025-05-01 00:00:00,,,nope,ETH,,,,,,,\n"
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_transactions", "--user", "ivy", "--format", "universal", csv_file(bad), stderr=err)
    assert "row 8, Received Amount: not a number" in err.getvalue()
    assert not Transaction.objects.exists()


@pytest.mark.django_db
def test_non_usd_values_are_refused(make_user, csv_file):
    make_user(username="ivy")
    text = HEADER + "\n2025-04-01 00:00:00,,,0.05,ETH,,,150,EUR,staking,,\n"
    with pytest.raises(CommandError):
        call_command("import_transactions", "--user", "ivy", "--format", "universal", csv_file(text),
                     stderr=io.StringIO())


@pytest.mark.django_db
def test_values_follow_the_organizations_reporting_fiat(make_user, make_organization, csv_file):
    make_user(username="eve", organization=make_organization("Euro books", reporting_fiat="EUR"))
    eur = HEADER + "\n2025-04-01 00:00:00,,,0.05,ETH,,,150,EUR,staking,,\n"
    call_command("import_transactions", "--user", "eve", "--format", "universal", csv_file(eur), stdout=io.StringIO())
    assert Transaction.objects.get().usd_value == Decimal("150")
    usd_fee = HEADER + "\n2025-04-02 00:00:00,100,EUR,0.05,ETH,1,USD,,,,,\n"
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_transactions", "--user", "eve", "--format", "universal", csv_file(usd_fee), stderr=err)
    assert "Fee Currency: a fiat fee must be in EUR" in err.getvalue()
    assert Transaction.objects.count() == 1


@pytest.mark.django_db
def test_command_errors_for_unknown_user_file_or_format(csv_file):
    with pytest.raises(CommandError, match="no user"):
        call_command("import_transactions", "--user", "ghost", "--format", "universal", csv_file(GOOD))
    with pytest.raises(CommandError):
        call_command("import_transactions", "--user", "ghost", "--format", "koinly-pro", csv_file(GOOD))


@pytest.mark.django_db
def test_api_upload_and_export_round_trip(make_user, client, access_token_for):
    user = make_user()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(user)}"}
    upload = SimpleUploadedFile("universal.csv", GOOD.encode(), content_type="text/csv")
    response = client.post("/api/transactions/import/", {"file": upload}, **headers)
    assert response.status_code == 200 and response.json()["created"] == 6
    bad = SimpleUploadedFile("bad.csv", (HEADER + "\n2025-01-01,x,ETH,,,,,,,,,\n").encode())
    rejected = client.post("/api/transactions/import/", {"file": bad}, **headers)
    assert rejected.status_code == 422
    assert rejected.json()["error"]["details"]["errors"][0] == {"row": 2, "column": "Sent Amount",
                                                                "reason": "not a number: 'x'"}
    exported = client.get("/api/transactions/export/", **headers)
    assert exported.status_code == 200 and exported["Content-Type"] == "text/csv"
    lines = exported.content.decode().splitlines()
    assert lines[0] == HEADER and len(lines) == 7
    # The export reads back as the same movements.
    again = koinly_format.parse_universal(exported.content.decode())
    assert again.errors == [] and sorted((m.kind, m.asset, m.amount) for m in again.movements) == sorted(
        (m.kind, m.asset, m.amount) for m in koinly_format.parse_universal(GOOD).movements)


@pytest.mark.django_db
def test_export_is_empty_but_valid_without_transactions(make_user):
    assert transactions_export_universal(user=make_user()) == HEADER + "\n"


@pytest.mark.django_db
def test_admin_import_page(make_user, client):
    admin_user = make_user(role="ADMIN", username="root", is_superuser=True)
    owner = make_user(username="ivy")
    client.force_login(admin_user)
    assert client.get("/admin/wallets/transaction/import/").status_code == 200
    bad = SimpleUploadedFile("bad.csv", (HEADER + "\n2025-01-01,x,ETH,,,,,,,,,\n").encode())
    rejected = client.post("/admin/wallets/transaction/import/", {"user": str(owner.pk), "file": bad})
    assert rejected.status_code == 422 and b"row 2, Sent Amount" in rejected.content
    good = SimpleUploadedFile("good.csv", GOOD.encode())
    done = client.post("/admin/wallets/transaction/import/", {"user": str(owner.pk), "file": good})
    assert done.status_code == 302
    assert Transaction.objects.filter(user=owner).count() == 6


@pytest.mark.django_db
def test_managers_cannot_import_in_the_admin(make_user, client):
    client.force_login(make_user(role="MANAGER"))
    assert client.get("/admin/wallets/transaction/import/").status_code == 403


def test_amounts_beyond_what_is_stored_exactly_are_row_errors():
    from wallets import koinly_format

    text = (HEADER + "\n2025-04-01 00:00:00,,,12345678901234567,ETH,,,,,,,\n"
            "2025-04-02 00:00:00,,,0.0000000000000000001,ETH,,,,,,,\n"
            "2025-04-03 00:00:00,,,0.000000000000000001,ETH,,,1,USD,staking,,\n")
    parsed = koinly_format.parse_universal(text)
    assert [(e.row, e.column, e.reason.split(":")[0]) for e in parsed.errors] == [
        (2, "Received Amount", "too large"), (3, "Received Amount", "too precise")]
    assert len(parsed.movements) == 1  # 1e-18 is fine


@pytest.mark.django_db
def test_a_tiny_amount_with_a_value_imports_without_a_unit_price(make_user, csv_file):
    make_user(username="ivy")
    text = HEADER + "\n2025-04-03 00:00:00,,,0.000000000000000001,ETH,,,1000000000,USD,staking,,\n"
    call_command("import_transactions", "--user", "ivy", "--format", "universal", csv_file(text), stdout=io.StringIO())
    row = Transaction.objects.get()
    assert row.usd_value == Decimal("1000000000") and row.price_at_transaction is None  # 1e27 per unit


@pytest.mark.django_db
def test_large_files_go_in_batches_and_a_failed_batch_takes_the_others_back(make_user, monkeypatch):
    from wallets import imports

    user = make_user(username="ivy")
    rows = [f"2025-03-{day:02d} 10:00:00,100,USD,0.1,ETH,,,,,,buy {day},0x{day:064x}" for day in range(1, 8)]
    text = HEADER + "\n" + "\n".join(rows) + "\n"
    monkeypatch.setattr(imports, "IMPORT_BATCH", 2)
    report = imports.transactions_import_universal(user=user, text=text)
    assert report.created == 7 and Transaction.objects.filter(user=user).count() == 7
    Transaction.objects.filter(user=user).delete()

    # Another import of the same file wins the race for the 5th row after our duplicate check:
    # our third batch hits the unique key, and the two batches already written are deleted again.
    original = imports._transaction
    calls = []

    def racing(owner_id, organization_id, wallet, asset, movement, external_id):
        calls.append(external_id)
        if len(calls) == 5:
            Transaction.objects.create(transaction_type="BUY", user_id=owner_id, organization_id=organization_id,
                                       cryptocurrency=asset, amount=1, transaction_date=movement.date,
                                       external_id=external_id)
        return original(owner_id, organization_id, wallet, asset, movement, external_id)

    monkeypatch.setattr(imports, "_transaction", racing)
    from django.db import DatabaseError

    with pytest.raises(DatabaseError):  # the unique key on (organization, external_id)
        imports.transactions_import_universal(user=user, text=text)
    assert list(Transaction.objects.filter(user=user).values_list("external_id", flat=True)) == [calls[4]]
