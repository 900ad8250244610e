"""The transactions page's Import panel and Export (issue 11): a Koinly universal CSV goes through the
same service as the API (wallets.imports: all rows or none), the bad rows are listed with their line,
what they say and the error against each, nothing is imported then; a good file gives a summary
(imported, duplicates skipped) and refreshes the list. Export writes the filtered list only."""

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from wallets.models import Transaction, WalletType
from wallets.services import wallet_create

pytestmark = pytest.mark.django_db

PAGE = "/app/transactions/"
IMPORT = "/app/transactions/import/"
EXPORT = "/app/transactions/export/"
HEADER = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
          "Net Worth Amount,Net Worth Currency,Label,Description,TxHash")
GOOD = "\n".join([
    HEADER,
    "2025-01-10 10:00:00,1000,USD,0.5,ETH,2,USD,,,,Bought ETH,0xaaa",
    "2025-02-01 09:30:00,0.2,ETH,700,USD,0.001,ETH,,,,Sold some,0xbbb",
    "2025-04-01 00:00:00,,,0.05,ETH,,,150,USD,staking,Validator reward,",
]) + "\n"
BAD = "\n".join([
    HEADER,
    "2025-01-10 10:00:00,1000,USD,0.5,ETH,2,USD,,,,Fine row,0xddd",
    "2025-13-40 10:00:00,1,USD,1,ETH,,,,,,Bad date,",
    "2025-01-01 00:00:00,abc,ETH,,,,,,,,Bad amount,",
    "2025-01-01 00:00:00,,,1,ETH,,,5,BTC,,Wrong fiat,",
]) + "\n"


def upload(client, text, name="koinly.csv", htmx=True, **data):
    file = SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text, content_type="text/csv")
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(IMPORT, {"file": file, **data}, **extra)


def test_the_page_has_the_import_panel_and_export(client, make_user):
    client.force_login(make_user())
    html = client.get(PAGE).content.decode()
    assert 'id="import-form"' in html and 'id="transactions-export"' in html


def test_a_good_file_is_imported_with_a_summary_and_again_only_skips(client, make_user):
    member = make_user()
    client.force_login(member)
    response = upload(client, GOOD)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="import-summary"' in html
    assert 'data-created="3"' in html and "Imported 3 transactions; skipped 0 duplicates" in html
    assert response["HX-Trigger"] == "transactions-changed"  # the list refreshes
    assert Transaction.objects.filter(user=member).count() == 3
    again = upload(client, GOOD).content.decode()
    assert "Imported 0 transactions; skipped 3 duplicates" in again and 'id="import-skipped"' in again
    assert "already imported: TxHash 0xaaa" in again
    assert Transaction.objects.filter(user=member).count() == 3


def test_bad_rows_are_listed_against_their_lines_and_nothing_is_imported(client, make_user):
    client.force_login(make_user())
    response = upload(client, BAD)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="import-errors"' in html  # htmx: shown in the panel
    assert "nothing was imported" in html
    rows = {int(line) for line in re.findall(r'class="import-error-row" data-row="(\d+)"', html)}
    assert rows == {3, 4, 5}  # the header is line 1; line 2 is good
    assert "2025-13-40 10:00:00" in html and "Bad amount" in html  # what the row says
    assert "BTC is not a fiat currency" in html
    assert not Transaction.objects.exists()
    plain = upload(client, BAD, htmx=False)
    assert plain.status_code == 422 and not Transaction.objects.exists()


def test_unreadable_too_large_missing_or_foreign_wallet_are_clear_4xx(client, make_user, make_organization):
    member = make_user()
    client.force_login(member)
    latin = upload(client, "Date,Descripci\xf3n\n".encode("latin-1"), htmx=False)
    assert latin.status_code == 422 and b"not UTF-8" in latin.content
    missing = client.post(IMPORT, {})
    assert missing.status_code == 422 and b"Choose a CSV file" in missing.content
    big = upload(client, HEADER + "\n" + "x" * (20 * 1024 * 1024 + 1), htmx=False)
    assert big.status_code == 413 and b"larger than 20 MB" in big.content
    elsewhere = wallet_create(user=make_user(organization=make_organization("Globex")), name="far",
                              wallet_type=WalletType.PRIVATE_KEY)
    foreign = upload(client, GOOD, htmx=False, wallet=str(elsewhere.pk))
    assert foreign.status_code == 404 and not Transaction.objects.exists()


def test_import_into_a_wallet(client, make_user):
    member = make_user()
    wallet = wallet_create(user=member, name="mine", wallet_type=WalletType.PRIVATE_KEY)
    client.force_login(member)
    assert 'data-created="3"' in upload(client, GOOD, wallet=str(wallet.pk)).content.decode()
    assert Transaction.objects.filter(wallet=wallet).count() == 3


def test_export_writes_the_filtered_list_only(client, make_user):
    member = make_user()
    client.force_login(member)
    upload(client, GOOD)
    everything = client.get(EXPORT)
    assert everything.status_code == 200 and everything["Content-Type"] == "text/csv"
    assert "attachment" in everything["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(everything.content.decode())))
    assert {row["Description"] for row in rows} == {"Bought ETH", "Sold some", "Validator reward"}
    sells = list(csv.DictReader(io.StringIO(client.get(EXPORT, {"type": "SELL"}).content.decode())))
    assert [row["Description"] for row in sells] == ["Sold some"]
    in_march = list(csv.DictReader(io.StringIO(
        client.get(EXPORT, {"date_from": "2025-03-01", "date_to": "2025-12-31"}).content.decode())))
    assert [row["Description"] for row in in_march] == ["Validator reward"]
    bad_day = client.get(EXPORT, {"date_from": "2025-02-30"})
    assert bad_day.status_code == 422


def test_export_never_holds_another_members_or_organizations_rows(client, make_user, make_organization):
    mine, colleague = make_user(), make_user()
    stranger = make_user(organization=make_organization("Globex"))
    for user, text in ((colleague, GOOD), (stranger, GOOD.replace("0xaaa", "0xeee"))):
        client.force_login(user)
        upload(client, text)
    client.force_login(mine)
    rows = list(csv.DictReader(io.StringIO(client.get(EXPORT).content.decode())))
    assert rows == []  # a plain member sees only their own transactions


def test_import_and_export_need_login(client):
    assert client.get(EXPORT).status_code == 302
    assert client.post(IMPORT).status_code == 302
