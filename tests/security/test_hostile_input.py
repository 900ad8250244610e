"""Issue 19: what an attacker (or a careless client) sent that stopped or broke something, each
reproduced as it was reported. Every request gets a 4xx answer in the error envelope, the process
keeps serving, and nothing stored breaks a later read."""

import csv
import io
import json
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts.models import Notification
from core.permissions import Role

pytestmark = pytest.mark.django_db

BIG = 227528303921849368576  # > 2**64: "MongoDB can only handle up to 8-byte ints"


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def send(client, method, path, body=None, token=None, content_type="application/json", **extra):
    data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    headers = {**(bearer(token) if token else {}), **extra}
    return client.generic(method, path, data or b"", content_type=content_type, **headers)


def error_of(response, status):
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


@pytest.fixture
def user_token(make_user, access_token_for):
    user = make_user(Role.ADMIN)
    return user, access_token_for(user)


@pytest.fixture
def wallet_id(user_token):
    from decimal import Decimal

    from wallets.models import Cryptocurrency

    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum", "current_price": Decimal("2500")})
    user, token = user_token
    response = send(Client(), "POST", "/api/wallets/", {"name": "watch", "wallet_type": "MetaMask",
                                                        "address": "0x" + "ab" * 20}, token)
    assert response.status_code == 201, response.content
    return response.json()["id"]


# --- 1. one request stops the stack: JSON nested 100,000 deep ----------------------------------------
def test_a_body_nested_100000_deep_is_refused_before_parsing(client):
    body = '{"username":' + "[" * 100_000 + "]" * 100_000 + ',"password":"x"}'
    error = error_of(send(client, "POST", "/api/auth/login/", body), 422)
    assert error["code"] == "nesting_too_deep" and error["details"]["max_depth"] == 64
    # ... and the next request is served as usual.
    assert error_of(send(client, "POST", "/api/auth/login/", {"username": "x", "password": "y"}), 401)


def test_depth_is_counted_outside_strings_only(client):
    """Brackets inside a string are text, not nesting; 64 levels pass the guard (to the schema's 422)."""
    response = send(client, "POST", "/api/auth/login/", {"username": "[" * 200, "password": "{" * 100})
    assert error_of(response, 401)["code"] == "invalid_credentials"
    body = '{"username": "u", "password": "p", "device_info": ' + "[" * 63 + "]" * 63 + "}"
    assert error_of(send(client, "POST", "/api/auth/login/", body), 422)["code"] == "validation_error"
    body = '{"username": "u", "password": "p", "device_info": ' + "[" * 64 + "]" * 64 + "}"
    assert error_of(send(client, "POST", "/api/auth/login/", body), 422)["code"] == "nesting_too_deep"


# --- 5. a 20 MB JSON body gave 500 (RequestDataTooBig) --------------------------------------------------
def test_a_20_mb_body_is_413_in_the_envelope(client, user_token, wallet_id):
    _, token = user_token
    body = {"wallet_id": wallet_id, "asset": "ETH", "transaction_type": "BUY", "amount": "1",
            "transaction_date": "2026-01-01T00:00:00Z", "description": "x" * (20 * 1024 * 1024)}
    error = error_of(send(client, "POST", "/api/transactions/", body, token), 413)
    assert error["code"] == "payload_too_large" and error["details"]["max_bytes"] > 0


def test_djangos_own_body_limit_is_413_too(client, settings):
    """A body Django refuses to read (DATA_UPLOAD_MAX_MEMORY_SIZE, e.g. one sent chunked, without a
    Content-Length to check first) is a 413 in the envelope, not a 500."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = send(client, "POST", "/api/auth/login/", {"username": "u" * 200, "password": "p"})
    assert error_of(response, 413)["code"] == "payload_too_large"


# --- 3. big integers: OverflowError 500 ------------------------------------------------------------------
def _paginated_list_paths():
    from config.api import api

    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get and "{" not in path and any(p["name"] == "offset" for p in get.get("parameters", [])):
            yield path


def test_every_paginated_list_refuses_a_huge_offset_and_limit(client, user_token):
    _, token = user_token
    paths = list(_paginated_list_paths())
    assert len(paths) >= 10
    for path in paths:
        for query in (f"offset={BIG}", f"limit={BIG}", "offset=-1"):
            response = client.get(f"{path}?{query}", **bearer(token))
            assert response.status_code == 422, (path, query, response.status_code, response.content[:300])
            assert response.json()["error"]["code"] == "validation_error"


def test_a_huge_from_block_is_422(client, user_token, wallet_id):
    _, token = user_token
    response = send(client, "POST", "/api/blockchain/wallet-monitoring/",
                    {"wallet_id": wallet_id, "from_block": 35259939002771049105426743296000}, token)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] in ("validation_error", "number_out_of_range")


def test_a_huge_integer_stored_anywhere_is_422_not_500(client, user_token):
    _, token = user_token
    response = send(client, "POST", "/api/notifications/",
                    {"title": "t", "message": "m", "metadata": {"n": BIG}}, token)
    assert error_of(response, 422)["code"] == "validation_error"


def test_an_overflow_or_recursion_deeper_down_is_422_not_500():
    """The safety nets: an integer that reaches MongoDB's encoder anyway, or a recursion that still runs
    out, is the caller's 422 in the envelope."""
    from django.test import RequestFactory

    from config.api import api

    request = RequestFactory().get("/api/transactions/")
    for exc, code in ((OverflowError("MongoDB can only handle up to 8-byte ints"), "number_out_of_range"),
                      (RecursionError("maximum recursion depth exceeded"), "nesting_too_deep")):
        response = api.on_exception(request, exc)
        assert response.status_code == 422 and json.loads(response.content)["error"]["code"] == code


# --- 4. a user's notifications broken for good ----------------------------------------------------------
def test_deep_metadata_is_refused_and_the_list_stays_readable(client, user_token):
    user, token = user_token
    metadata = current = {}
    for _ in range(900):
        current["a"] = {}
        current = current["a"]
    response = send(client, "POST", "/api/notifications/", {"title": "t", "message": "m", "metadata": metadata}, token)
    assert response.status_code == 422
    assert client.get("/api/notifications/", **bearer(token)).status_code == 200


def test_metadata_is_bounded_in_the_service_too(user_token):
    from accounts.notifications import notification_create
    from core.errors import InvalidInput

    user, _ = user_token
    deep = current = {}
    for _ in range(12):
        current["a"] = {}
        current = current["a"]
    for metadata in (deep, {"x": "y" * 20_000}, {"n": BIG}, {"s": {1, 2}}):
        with pytest.raises(InvalidInput) as caught:
            notification_create(user=user, title="t", message="m", metadata=metadata)
        assert caught.value.code == "invalid_metadata"
    assert notification_create(user=user, title="t", message="m", metadata={"a": {"b": [1, "c", None]}}).pk


# --- 7. rate limiter race -> TypeError 500 -----------------------------------------------------------------
def test_concurrent_hits_on_a_new_window_never_crash_and_count_exactly():
    from accounts.models import RateLimitCounter
    from accounts.ratelimits import rate_limit_hit
    from core.errors import RateLimited

    threads, outcomes, start = 24, [], threading.Barrier(24)

    def hit():
        start.wait()
        try:
            rate_limit_hit(scope="race", subject="one", limit=10, window_seconds=3600)
            outcomes.append("ok")
        except RateLimited:
            outcomes.append("limited")
        except Exception as exc:  # the reported TypeError
            outcomes.append(repr(exc))

    workers = [threading.Thread(target=hit) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(set(outcomes)) == ["limited", "ok"], outcomes
    # Never more than the limit through; a hit whose count the server did not return is read back,
    # which can only overstate it.
    assert 1 <= outcomes.count("ok") <= 10 and outcomes.count("ok") + outcomes.count("limited") == 24
    assert RateLimitCounter.objects.filter(key__startswith="race:one:").count() == 1
    assert RateLimitCounter.objects.get(key__startswith="race:one:").count == 24


# --- 8. lockout: an existence oracle, and anyone can lock anyone --------------------------------------
def _login(client, username, password, ip):
    return send(client, "POST", "/api/auth/login/", {"username": username, "password": password},
                REMOTE_ADDR=ip)


def test_failures_from_one_source_do_not_lock_the_owner_out_from_another(client, make_user):
    admin = make_user(Role.ADMIN, username="boss")
    for _ in range(5):
        assert _login(client, "boss", "Wrong!Pass123", "203.0.113.9").status_code == 401
    assert error_of(_login(client, "boss", "Passw0rd!long", "203.0.113.9"), 403)["code"] == "account_locked"
    assert _login(client, "boss", "Passw0rd!long", "198.51.100.7").status_code == 200
    admin.refresh_from_db()
    assert admin.is_active


def test_unknown_and_locked_accounts_get_the_same_answer(client, make_user):
    make_user(username="known")
    answers = {}
    for name in ("known", "nobody-here"):
        for _ in range(5):
            assert error_of(_login(client, name, "Wrong!Pass123", "203.0.113.10"), 401)["code"] == "invalid_credentials"
        answers[name] = _login(client, name, "Passw0rd!long" if name == "known" else "Wrong!Pass123", "203.0.113.10")
    known, unknown = answers["known"], answers["nobody-here"]
    assert known.status_code == unknown.status_code == 403
    strip = lambda e: {**e, "details": sorted(e["details"])}  # noqa: E731  (the times differ)
    assert strip(known.json()["error"]) == strip(unknown.json()["error"])


def test_only_an_admin_unlocks_and_it_clears_every_source(client, make_user):
    from accounts.lockout import login_failures_unlock
    from core.errors import Forbidden

    member = make_user(username="locked_member")
    manager = make_user(Role.MANAGER)
    admin = make_user(Role.ADMIN)
    for ip in ("203.0.113.11", "203.0.113.12"):
        for _ in range(5):
            _login(client, "locked_member", "Wrong!Pass123", ip)
        assert _login(client, "locked_member", "Passw0rd!long", ip).status_code == 403
    with pytest.raises(Forbidden):
        login_failures_unlock(actor=manager, member=member, ip=None)
    staff = Client()
    staff.force_login(admin)
    response = staff.post("/admin/accounts/user/", {"action": "unlock_logins", "_selected_action": [str(member.pk)]})
    assert response.status_code == 302
    for ip in ("203.0.113.11", "203.0.113.12"):
        assert _login(client, "locked_member", "Passw0rd!long", ip).status_code == 200
    member.refresh_from_db()
    assert member.account_locked_until is None


# --- 9. CSV formula injection ----------------------------------------------------------------------------
def test_the_transactions_export_neutralises_formulas(client, user_token, wallet_id):
    _, token = user_token
    for description in ('=HYPERLINK("http://evil")', "+1+2", "-3+cmd|' /C calc'!A0", "@SUM(A1)", "\tx", "\rx"):
        response = send(client, "POST", "/api/transactions/", {
            "wallet_id": wallet_id, "asset": "ETH", "transaction_type": "TRANSFER", "amount": "1",
            "transaction_date": "2026-01-01T00:00:00Z", "description": description}, token)
        assert response.status_code == 201, response.content
    exported = client.get("/api/transactions/export/", **bearer(token)).content.decode()
    descriptions = [row["Description"] for row in csv.DictReader(io.StringIO(exported, newline=""))]
    assert len(descriptions) == 6
    assert all(d.startswith("'") for d in descriptions), descriptions
    assert '\'=HYPERLINK("http://evil")' in descriptions  # kept, as text


# --- 10. input accepted too loosely ------------------------------------------------------------------
@pytest.mark.parametrize("amount", ["1_000", " 1 ", "1e3", "1E-2", "NaN", "Infinity", "0x10", "١"])
def test_amounts_are_plain_decimal_strings(client, user_token, wallet_id, amount):
    _, token = user_token
    response = send(client, "POST", "/api/transactions/", {
        "wallet_id": wallet_id, "asset": "ETH", "transaction_type": "TRANSFER", "amount": amount,
        "transaction_date": "2026-01-01T00:00:00Z"}, token)
    assert error_of(response, 422)["code"] == "validation_error"


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "1969-12-31T00:00:00Z", "9999-01-01T00:00:00Z"])
def test_dates_are_within_sane_bounds(client, user_token, wallet_id, when):
    _, token = user_token
    response = send(client, "POST", "/api/transactions/", {
        "wallet_id": wallet_id, "asset": "ETH", "transaction_type": "TRANSFER", "amount": "1",
        "transaction_date": when}, token)
    error = error_of(response, 422)
    assert error["code"] == "invalid_date" and "between 1970 and 2200" in error["details"]["fields"][0]["message"]


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "esc\x1b[31m", "del\x7f"])
def test_control_characters_are_refused_in_text(client, user_token, wallet_id, text):
    _, token = user_token
    assert error_of(send(client, "POST", "/api/wallets/", {"name": text}, token), 422)
    response = send(client, "POST", "/api/transactions/", {
        "wallet_id": wallet_id, "asset": "ETH", "transaction_type": "TRANSFER", "amount": "1",
        "transaction_date": "2026-01-01T00:00:00Z", "description": text}, token)
    assert error_of(response, 422)["code"] == "validation_error"


def test_line_breaks_and_tabs_stay_allowed_in_text(client, user_token, wallet_id):
    _, token = user_token
    response = send(client, "POST", "/api/transactions/", {
        "wallet_id": wallet_id, "asset": "ETH", "transaction_type": "TRANSFER", "amount": "1",
        "transaction_date": "2026-01-01T00:00:00Z", "description": "line one\r\nline\ttwo"}, token)
    assert response.status_code == 201


def test_the_zero_address_is_no_wallet_or_recipient(client, user_token):
    from core.errors import InvalidInput
    from wallets.addresses import address_normalise

    _, token = user_token
    response = send(client, "POST", "/api/wallets/", {"name": "zero", "wallet_type": "MetaMask",
                                                      "address": "0x" + "0" * 40}, token)
    assert error_of(response, 422)["code"] == "zero_address"
    with pytest.raises(InvalidInput):
        address_normalise("0x0000000000000000000000000000000000000000")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=utf-16", "application/xml"])
def test_json_endpoints_take_application_json_only(client, content_type):
    response = send(client, "POST", "/api/auth/login/", {"username": "u", "password": "p"}, content_type=content_type)
    assert error_of(response, 415)["code"] == "unsupported_media_type"


def test_a_utf16_body_is_refused(client):
    body = json.dumps({"username": "u", "password": "p"}).encode("utf-16")
    response = send(client, "POST", "/api/auth/login/", body)
    assert error_of(response, 415)["code"] == "unsupported_media_type"


def test_json_with_a_utf8_charset_is_fine(client):
    response = send(client, "POST", "/api/auth/login/", {"username": "u", "password": "p"},
                    content_type="application/json; charset=UTF-8")
    assert response.status_code == 401


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "//evil.example/x",
                                 "vbscript:x", " javascript:x", "/\\evil.example"])
def test_notification_action_url_is_a_relative_path_or_http(client, user_token, url):
    user, token = user_token
    response = send(client, "POST", "/api/notifications/", {"title": "t", "message": "m", "action_url": url}, token)
    assert response.status_code == 422
    assert not Notification.objects.filter(user=user).exists()


@pytest.mark.parametrize("url", ["/app/wallets/", "https://books.example.com/x", "http://localhost:8000/", ""])
def test_good_action_urls_pass(client, user_token, url):
    _, token = user_token
    response = send(client, "POST", "/api/notifications/", {"title": "t", "message": "m", "action_url": url}, token)
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("key", ["not base64!", "c2hvcnQ=", ""])
def test_a_malformed_key_encryption_key_fails_the_system_check(settings, key):
    from django.core.management import call_command as run

    settings.KEY_ENCRYPTION_KEY = key
    with pytest.raises(Exception) as caught:
        run("check", stdout=io.StringIO(), stderr=io.StringIO())
    assert "KEY_ENCRYPTION_KEY" in str(caught.value)


def test_a_malformed_retired_key_fails_the_system_check(settings):
    settings.KEY_ENCRYPTION_KEYS_RETIRED = ["k0"]
    with pytest.raises(Exception) as caught:
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())
    assert "KEY_ENCRYPTION_KEYS_RETIRED" in str(caught.value)


def test_import_transactions_on_a_non_utf8_file_is_a_clean_error(make_user, tmp_path):
    make_user(username="importer")
    source = tmp_path / "latin1.csv"
    source.write_bytes("Date,Description\n2025-01-01,caf\xe9\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_transactions", str(source), user="importer", format="universal",
                     stdout=io.StringIO(), stderr=io.StringIO())



def test_the_one_neutraliser():
    from core.spreadsheets import csv_text, safe_cell, unneutralise

    for text in ("=1+2", "+1", "-1+2", "@x", "\tx", "\rx", "\nx", "=HYPERLINK(\"http://evil\")"):
        assert safe_cell(text) == "'" + text and unneutralise(safe_cell(text)) == text
    for value in ("-12.50", "0", "12", "plain", "", "'quoted", 5, None):
        assert safe_cell(value) == value and (not isinstance(value, str) or unneutralise(value) == value)
    rows = list(csv.reader(io.StringIO(csv_text([["a", "b"], ["\rx", "=1"], ["-1.5", "ok"]]), newline="")))
    assert rows == [["a", "b"], ["'\rx", "'=1"], ["-1.5", "ok"]]


EVIL_CSV = """Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash
2025-01-02 10:00:00,100,USD,1,=EVIL,,,,,,"=HYPERLINK(""http://evil"")",
2025-03-02 10:00:00,1,=EVIL,50,USD,,,,,,@SUM(A1),
"""


def test_tax_report_csv_and_xlsx_neutralise_formulas(make_user, tmp_path):
    from openpyxl import load_workbook

    make_user(username="evil_books", is_accountant=True)
    source = tmp_path / "evil.csv"
    source.write_text(EVIL_CSV)
    call_command("import_transactions", str(source), user="evil_books", format="universal", stdout=io.StringIO())
    out_csv, out_xlsx = tmp_path / "gains.csv", tmp_path / "gains.xlsx"
    call_command("tax_report", "--user", "evil_books", "--method", "fifo", "--year", "2025", "--output", str(out_csv),
                 stderr=io.StringIO())
    rows = list(csv.reader(io.StringIO(out_csv.read_text(), newline="")))
    assert rows[1][0] == "'=EVIL" and rows[1][6] == "-50.00"  # the asset as text; a loss stays a number
    call_command("tax_report", "--user", "evil_books", "--method", "fifo", "--year", "2025", "--format", "xlsx",
                 "--output", str(out_xlsx), stderr=io.StringIO())
    book = load_workbook(out_xlsx)
    texts = [cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, str)]
    assert "'=EVIL" in texts
    assert not [t for t in texts if t.startswith(("=", "+", "@"))]
    assert all(cell.data_type != "f" for sheet in book.worksheets for row in sheet.iter_rows() for cell in row)


def test_statement_xlsx_neutralises_formulas():
    import datetime as dt
    from types import SimpleNamespace

    from openpyxl import load_workbook

    from reporting.models import StatementKind
    from reporting.statement_exports import statement_xlsx

    data = {"kind": StatementKind.BALANCE_SHEET, "currency": "USD", "columns": [{"label": "=2026"}],
            "sections": [{"title": "Assets", "key": "assets", "total": ["10"],
                          "lines": [{"label": '=HYPERLINK("http://evil")', "amounts": ["10"], "level": 0, "key": "a"}]}],
            "totals": {"total_liabilities_and_equity": ["10"]}, "unpriced": [["@TOKEN"]], "notes": ["-1+cmd"]}
    stored = SimpleNamespace(statement=data, kind=StatementKind.BALANCE_SHEET, as_of=dt.date(2026, 12, 31),
                             created_at=dt.datetime(2026, 12, 31, 10, 0),
                             created_by=SimpleNamespace(get_username=lambda: "+admin"))
    book = load_workbook(io.BytesIO(statement_xlsx(stored)))
    texts = [cell.value for row in book.active.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert "'=HYPERLINK(\"http://evil\")" in texts and "'=2026" in texts and "'-1+cmd" in texts
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@"))]


# --- 11. the schema documents the error answers --------------------------------------------------------
def test_every_operation_documents_its_error_answers_with_the_envelope():
    from config.api import api

    schema = api.get_openapi_schema()
    assert "ErrorEnvelope" in schema["components"]["schemas"]
    operations = [(path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()]
    assert len(operations) > 50
    for path, method, operation in operations:
        responses = {int(status): body for status, body in operation["responses"].items()}
        assert 422 in responses, (method, path)
        if operation.get("security"):
            assert {401, 403} <= set(responses), (method, path)
        if "{" in path:
            assert 404 in responses, (method, path)
        if "requestBody" in operation:
            assert {400, 413, 415} <= set(responses), (method, path)
        for status, body in responses.items():
            if 400 <= status < 500:
                assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}
    json.dumps(schema, sort_keys=True)  # one kind of status key: the schema serialises


def test_the_request_handler_keeps_a_recursion_limit_that_raises_before_the_stack_overflows(client):
    """py_ecc sets the limit to 100,000 on import: with it, a deep recursion in C segfaulted the process."""
    import sys

    client.get("/api/system/health/")
    assert sys.getrecursionlimit() <= 4000
    deep = "[" * 50_000 + "]" * 50_000
    with pytest.raises(RecursionError):
        json.loads(deep)  # an exception, not a dead process


def test_the_admin_notification_form_has_the_same_bounds():
    from django.forms import modelform_factory

    from accounts.admin import NotificationForm

    form_class = modelform_factory(Notification, form=NotificationForm, fields=("action_url", "metadata"))
    assert not form_class(data={"action_url": "javascript:alert(1)", "metadata": "{}"}).is_valid()
    assert not form_class(data={"action_url": "/app/", "metadata": json.dumps({"n": BIG})}).is_valid()
    assert form_class(data={"action_url": "/app/", "metadata": json.dumps({"a": 1})}).is_valid()
