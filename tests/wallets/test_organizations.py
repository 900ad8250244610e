"""Wallets in organizations: another organization's wallet, transaction or alert is a 404 on every
endpoint; a plain member sees only their own wallets while managers and accountants see the
organization's; what each may do there; the same address in two organizations (and the monitor
recording a transfer once per organization); imports, monitor rows, quotes and live events carry the
right organization; the reporting-fiat lock."""

import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from bson import ObjectId
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from eth_account import Account

from core.models import RealtimeEvent
from core.organizations import reporting_fiat_lock_reason
from core.realtime import Audience, organization_group, user_group
from wallets import chain
from wallets.models import Cryptocurrency, PriceAlert, PriceQuote, Transaction, Wallet, WalletType
from wallets.prices import price_on, price_record
from wallets.services import price_alert_create, transaction_create, wallet_create, wallet_monitoring_enable

pytestmark = pytest.mark.django_db
D = Decimal
WHEN = dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)
HEADER = ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
          "Net Worth Amount,Net Worth Currency,Label,Description,TxHash")
CSV = HEADER + "\n2025-01-10 10:00:00,1000,USD,0.5,ETH,,,,,,Bought ETH,0xaaa\n"


@pytest.fixture
def api(client, access_token_for):
    def as_user(user):
        token = access_token_for(user)

        def call(method, path, data=None, **headers):
            return getattr(client, method)(path, data, content_type="application/json",
                                           HTTP_AUTHORIZATION=f"Bearer {token}", **headers)
        call.token = token
        return call
    return as_user


@pytest.fixture
def acme(make_user, settings):
    """Organization A ("Acme", the test's main one): an employee's wallet, transaction and alert."""
    settings.PRICE_API_BASE_URL = ""
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    owner = make_user()
    wallet = wallet_create(user=owner, name="acme hot", wallet_type=WalletType.PRIVATE_KEY)
    tx = transaction_create(actor=owner, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D("1"),
                            price_at_transaction=D("2000"), transaction_date=WHEN)
    alert = price_alert_create(user=owner, symbol="ETH", direction="above", threshold=D("3000"))
    return SimpleNamespace(owner=owner, wallet=wallet, tx=tx, alert=alert)


def object_endpoints(a):
    w, t, al = a.wallet.pk, a.tx.pk, a.alert.pk
    return [
        ("get", f"/api/wallets/{w}/", None), ("put", f"/api/wallets/{w}/", {"name": "stolen"}),
        ("delete", f"/api/wallets/{w}/", None), ("get", f"/api/wallets/{w}/balance/", None),
        ("post", f"/api/wallets/{w}/monitor/", {}), ("post", f"/api/wallets/{w}/challenge/", None),
        ("post", f"/api/wallets/{w}/verify-ownership/", {"signature": "0x00"}),
        ("post", "/api/blockchain/send-eth/", {"wallet_id": str(w), "to": Account.create().address, "amount": "0.1"}),
        ("post", "/api/blockchain/wallet-monitoring/", {"wallet_id": str(w)}),
        ("post", "/api/transactions/", {"wallet_id": str(w), "asset": "ETH", "transaction_type": "BUY",
                                        "amount": "1", "price_at_transaction": "2000",
                                        "transaction_date": WHEN.isoformat()}),
        ("get", f"/api/transactions/{t}/", None), ("put", f"/api/transactions/{t}/", {"tax_category": "x"}),
        ("delete", f"/api/transactions/{t}/", None),
        ("get", f"/api/exchange-rates/alerts/{al}/", None),
        ("put", f"/api/exchange-rates/alerts/{al}/", {"threshold": "1"}),
        ("delete", f"/api/exchange-rates/alerts/{al}/", None),
    ]


def assert_untouched(a):
    monitored_from = a.wallet.monitor_from_block  # as created (every wallet is monitored from then)
    a.wallet.refresh_from_db()
    assert a.wallet.name == "acme hot" and a.wallet.monitor_from_block == monitored_from
    assert not a.wallet.ownership_nonce
    assert Transaction.objects.get(pk=a.tx.pk).tax_category == ""
    assert Transaction.objects.filter(wallet=a.wallet).count() == 1
    assert PriceAlert.objects.get(pk=a.alert.pk).threshold == D("3000")


@pytest.mark.parametrize("role", ["ADMIN", "USER"])
def test_another_organizations_objects_are_404_on_every_endpoint(acme, api, make_user, make_organization, client,
                                                                  role):
    outsider = make_user(role=role, is_accountant=True, organization=make_organization("Globex"))
    call = api(outsider)
    for method, path, data in object_endpoints(acme):
        response = call(method, path, data, HTTP_IDEMPOTENCY_KEY="k1")
        assert response.status_code == 404, (method, path, response.content[:200])
        assert response.json()["error"]["code"] == "not_found"
    upload = SimpleUploadedFile("f.csv", CSV.encode(), content_type="text/csv")
    imported = client.post("/api/transactions/import/", {"file": upload, "wallet_id": str(acme.wallet.pk)},
                           HTTP_AUTHORIZATION=f"Bearer {call.token}")
    assert imported.status_code == 404
    for listing in ("/api/wallets/", "/api/transactions/", "/api/exchange-rates/alerts/", "/api/transactions/history/",
                    f"/api/transactions/?wallet_id={acme.wallet.pk}"):
        assert call("get", listing).json()["items"] == [], listing
    assert call("get", "/api/portfolio/").json() == []
    assert call("get", "/api/transactions/export/").content.decode().strip() == HEADER
    client.force_login(outsider)
    assert client.post(f"/app/wallets/{acme.wallet.pk}/balance/").status_code == 404
    assert acme.wallet.address not in client.get("/app/wallets/").content.decode()
    assert_untouched(acme)


def test_a_plain_member_sees_only_their_own(acme, api, make_user):
    colleague = make_user()
    mine = wallet_create(user=colleague, name="mine", wallet_type=WalletType.PRIVATE_KEY)
    call = api(colleague)
    assert [w["id"] for w in call("get", "/api/wallets/").json()["items"]] == [str(mine.pk)]
    assert call("get", "/api/transactions/").json()["items"] == []
    assert call("get", "/api/exchange-rates/alerts/").json()["items"] == []
    for method, path, data in object_endpoints(acme):
        assert call(method, path, data, HTTP_IDEMPOTENCY_KEY="k2").status_code == 404, (method, path)
    assert_untouched(acme)


def test_managers_and_accountants_see_the_whole_organization(acme, api, make_user):
    manager, accountant = make_user(role="MANAGER"), make_user(is_accountant=True)
    own = wallet_create(user=manager, name="manager's", wallet_type=WalletType.PRIVATE_KEY)
    for reader in (manager, accountant):
        call = api(reader)
        assert {w["id"] for w in call("get", "/api/wallets/").json()["items"]} >= {str(acme.wallet.pk)}
        assert [t["id"] for t in call("get", "/api/transactions/").json()["items"]] == [str(acme.tx.pk)]
        assert [a["id"] for a in call("get", "/api/exchange-rates/alerts/").json()["items"]] == [str(acme.alert.pk)]
        assert call("get", f"/api/wallets/{acme.wallet.pk}/").status_code == 200
        assert call("get", f"/api/transactions/{acme.tx.pk}/").status_code == 200
        assert [p["asset"] for p in call("get", "/api/portfolio/").json()] == ["ETH"]
    # the employee does not see the manager's wallet
    assert str(own.pk) not in {w["id"] for w in api(acme.owner)("get", "/api/wallets/").json()["items"]}


def test_what_an_accountant_and_a_manager_may_do(acme, api, make_user):
    accountant, manager = api(make_user(is_accountant=True)), api(make_user(role="MANAGER"))
    w, t, al = acme.wallet.pk, acme.tx.pk, acme.alert.pk

    def code(response):
        return response.status_code, response.json()["error"]["code"] if response.status_code >= 400 else None

    # the accountant works the books: business fields yes; money, wallets and corrections no
    assert accountant("put", f"/api/transactions/{t}/", {"tax_category": "treasury"}).status_code == 200
    assert code(accountant("put", f"/api/transactions/{t}/", {"amount": "5"})) == (403, "permission_denied")
    assert code(accountant("delete", f"/api/transactions/{t}/")) == (403, "permission_denied")
    assert code(accountant("put", f"/api/wallets/{w}/", {"name": "x"})) == (403, "permission_denied")
    assert code(accountant("delete", f"/api/wallets/{w}/")) == (403, "permission_denied")
    assert code(accountant("post", f"/api/wallets/{w}/monitor/", {"from_block": 1})) == (403, "permission_denied")
    assert code(accountant("post", "/api/transactions/", {
        "wallet_id": str(w), "asset": "ETH", "transaction_type": "BUY", "amount": "1", "price_at_transaction": "2000",
        "transaction_date": WHEN.isoformat()})) == (403, "permission_denied")
    assert code(accountant("post", "/api/blockchain/send-eth/", {"wallet_id": str(w), "to": Account.create().address,
                                                                 "amount": "0.1"}, HTTP_IDEMPOTENCY_KEY="a")) \
        == (403, "permission_denied")
    assert code(accountant("put", f"/api/exchange-rates/alerts/{al}/", {"threshold": "1"})) == (403, "permission_denied")
    # the manager may: rename, record, correct, and gets past the permission check to send
    assert manager("put", f"/api/wallets/{w}/", {"name": "renamed"}).json()["name"] == "renamed"
    assert manager("put", f"/api/transactions/{t}/", {"amount": "2"}).status_code == 200
    created = manager("post", "/api/transactions/", {"wallet_id": str(w), "asset": "ETH", "transaction_type": "SELL",
                                                     "amount": "0.5", "price_at_transaction": "2100",
                                                     "transaction_date": WHEN.isoformat()})
    assert created.status_code == 201
    row = Transaction.objects.get(pk=created.json()["id"])  # the wallet owner's row, in the organization
    assert row.user_id == acme.owner.pk and row.organization_id == acme.wallet.organization_id
    unapproved = manager("post", "/api/blockchain/send-eth/", {"wallet_id": str(w), "to": Account.create().address,
                                                               "amount": "0.1"}, HTTP_IDEMPOTENCY_KEY="m")
    assert unapproved.status_code != 404 and unapproved.json()["error"]["code"] != "permission_denied"
    assert manager("put", f"/api/exchange-rates/alerts/{al}/", {"threshold": "3500"}).status_code == 200
    assert manager("delete", f"/api/transactions/{t}/").status_code == 200


def test_the_same_address_in_two_organizations(api, make_user, make_organization):
    address = Account.create().address
    here, there = make_user(), make_user(organization=make_organization("Globex"))
    first = wallet_create(user=here, name="watch", wallet_type=WalletType.METAMASK, address=address)
    second = wallet_create(user=there, name="watch", wallet_type=WalletType.METAMASK, address=address.lower())
    assert first.address == second.address and first.organization_id != second.organization_id
    again = api(make_user())("post", "/api/wallets/", {"name": "again", "wallet_type": "MetaMask", "address": address})
    assert again.status_code == 409 and again.json()["error"]["code"] == "address_taken"
    assert Wallet.objects.filter(address=address).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_monitor_records_a_transfer_once_per_organization(make_user, make_organization, eth_node, settings):
    from wallets.monitoring import monitor_scan

    settings.ETH_CONFIRMATIONS = 1
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    address = Account.create().address
    wallets = []
    for organization in (None, make_organization("Globex")):
        owner = make_user(**({"organization": organization} if organization else {}))
        wallet = wallet_create(user=owner, name="watched", wallet_type=WalletType.METAMASK, address=address)
        wallets.append(wallet_monitoring_enable(wallet=wallet))
    monitor_scan()
    tx_hash = chain.eth_send_from_dev_account(to=address, amount_wei=chain.eth_to_wei(D("0.3")))
    assert monitor_scan().recorded == 2
    monitor_scan()
    rows = list(Transaction.objects.filter(hash=tx_hash))
    assert sorted((r.wallet_id, r.organization_id, r.user_id) for r in rows) == sorted(
        (w.pk, w.organization_id, w.user_id) for w in wallets)
    assert {r.external_id for r in rows} == {f"chain:{tx_hash}:-1:{address}"}
    for wallet in wallets:
        assert Transaction.objects.for_organization(wallet.organization_id).filter(hash=tx_hash).count() == 1


def test_imports_belong_to_the_importers_organization(api, make_user, make_organization, client, tmp_path):
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    globex = make_organization("Globex")
    here, there = make_user(), make_user(username="gina", organization=globex)
    for user in (here, there):  # the same file in two organizations: no duplicate across them
        upload = SimpleUploadedFile("f.csv", CSV.encode(), content_type="text/csv")
        response = client.post("/api/transactions/import/", {"file": upload},
                               HTTP_AUTHORIZATION=f"Bearer {api(user).token}")
        assert response.json()["created"] == 1
        assert list(Transaction.objects.filter(user=user).values_list("organization_id", flat=True)) == [
            user.organization_id]
    # the command keeps its interface and acts in U's organization, as U
    source = tmp_path / "more.csv"
    source.write_text(HEADER + "\n2025-02-10 10:00:00,500,USD,0.2,ETH,,,,,,Bought more,0xbbb\n")
    call_command("import_transactions", str(source), user="gina", format="universal", stdout=io.StringIO())
    assert Transaction.objects.for_organization(globex.pk).filter(user=there).count() == 2
    assert Transaction.objects.for_organization(here.organization_id).count() == 1
    out = io.StringIO()
    call_command("export_transactions", user="gina", format="universal", stdout=out)
    assert "Bought more" in out.getvalue() and out.getvalue().count("\n") == 3


def test_imports_into_a_wallet_follow_who_may_record_there(acme, api, make_user, client):
    def upload(user):
        return client.post("/api/transactions/import/",
                           {"file": SimpleUploadedFile("f.csv", CSV.encode()), "wallet_id": str(acme.wallet.pk)},
                           HTTP_AUTHORIZATION=f"Bearer {api(user).token}")

    assert upload(make_user()).status_code == 404  # a colleague does not see the wallet
    refused = upload(make_user(is_accountant=True))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert upload(make_user(role="MANAGER")).json()["created"] == 1
    row = Transaction.objects.get(wallet=acme.wallet, source="import")
    assert row.user_id == acme.owner.pk and row.organization_id == acme.wallet.organization_id


def test_the_reporting_fiat_locks_once_the_organization_has_a_transaction(make_user, make_organization):
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    user, other = make_user(), make_organization("Globex")
    assert reporting_fiat_lock_reason(user.organization) is None
    wallet = wallet_create(user=user, name="w", wallet_type=WalletType.PRIVATE_KEY)
    assert reporting_fiat_lock_reason(user.organization) is None  # a wallet alone holds no values
    transaction_create(actor=user, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D("1"),
                       price_at_transaction=D("2000"), transaction_date=WHEN)
    assert "transactions" in reporting_fiat_lock_reason(user.organization)
    assert reporting_fiat_lock_reason(other) is None


def test_an_organizations_own_prices_win_and_stay_its_own(api, make_user, make_organization):
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    here, there = make_user(), make_user(organization=make_organization("Globex"))
    day = dt.date(2025, 3, 1)
    price_record(symbol="ETH", price=D("2000"), day=day, source="coingecko")  # market data: shared
    price_record(symbol="ETH", price=D("2100"), day=day, organization=here.organization)  # entered by hand
    price_record(symbol="ETH", price=D("2600"), organization=here.organization_id)
    assert price_on(symbol="ETH", day=day, organization=here.organization) == D("2100")
    assert price_on(symbol="ETH", day=day, organization=there.organization) == D("2000")
    assert price_on(symbol="ETH", day=day) == D("2000")
    assert PriceQuote.objects.get(price=D("2100")).organization_id == here.organization_id
    assert PriceQuote.objects.get(price=D("2000")).organization_id is None
    rates = [D(api(user)("get", "/api/exchange-rates/").json()[0]["price"]) for user in (here, there)]
    assert rates == [D("2600"), D("2000")]
    converted = api(there)("post", "/api/exchange-rates/convert/", {"asset": "ETH", "amount": "1",
                                                                     "date": day.isoformat()})
    assert D(converted.json()["value"]) == D("2000")


def test_wallet_and_transaction_events_go_to_the_owner_and_the_books(make_user, make_organization):
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    user = make_user()
    RealtimeEvent.objects.all().delete()
    wallet = wallet_create(user=user, name="w", wallet_type=WalletType.PRIVATE_KEY)
    tx = transaction_create(actor=user, wallet=wallet, asset="ETH", transaction_type="BUY", amount=D("1"),
                            price_at_transaction=D("2000"), transaction_date=WHEN)
    books = organization_group(user.organization_id, Audience.BOOKS)
    # The staff feeds' own events (the classification run's task_run.updated, dashboard.changed) are
    # other tests' business: these are the wallet's and the transaction's, and the books'.
    events = {(e.group, e.event_type) for e in RealtimeEvent.objects.all()
              if e.event_type.split(".")[0] in ("wallet", "transaction", "ledger")}
    assert events == {(user_group(user.pk), "wallet.created"), (books, "wallet.created"),
                      (user_group(user.pk), "transaction.created"), (books, "transaction.created"),
                      (books, "ledger.entries_posted")}  # the valued buy is booked at once (tasks run inline)
    payload = RealtimeEvent.objects.get(group=books, event_type="transaction.created").payload
    assert payload["id"] == str(tx.pk) and payload["organization_id"] == str(user.organization_id)
    assert "encrypted_private_key" not in str(RealtimeEvent.objects.get(group=books, event_type="wallet.created").payload)


def test_admin_staff_see_only_their_organizations_wallets(acme, client, make_user, make_organization):
    outsider = make_user(role="ADMIN", organization=make_organization("Globex"))
    client.force_login(outsider)
    listing = client.get("/admin/wallets/wallet/")
    assert listing.status_code == 200 and acme.wallet.address not in listing.content.decode()
    assert client.get(f"/admin/wallets/wallet/{acme.wallet.pk}/change/").status_code == 302
    assert client.get(f"/admin/wallets/transaction/{acme.tx.pk}/change/").status_code == 302
    assert client.get(f"/admin/wallets/pricealert/{acme.alert.pk}/change/").status_code == 302
    for changelist in ("transaction", "pricealert", "wallet"):
        assert list(client.get(f"/admin/wallets/{changelist}/").context["cl"].result_list) == [], changelist
    # cryptocurrencies are platform data: staff look, only superusers change them
    eth = Cryptocurrency.objects.get(symbol="ETH")
    assert client.get("/admin/wallets/cryptocurrency/").status_code == 200
    assert client.post(f"/admin/wallets/cryptocurrency/{eth.pk}/change/", {"name": "x"}).status_code == 403
    client.force_login(make_user(role="ADMIN", is_superuser=True))
    assert client.get(f"/admin/wallets/cryptocurrency/{eth.pk}/change/").status_code == 200
    assert acme.wallet.address in client.get("/admin/wallets/wallet/").content.decode()


def test_a_missing_or_malformed_id_is_404(acme, api):
    call = api(acme.owner)
    for path in (f"/api/wallets/{ObjectId()}/", f"/api/transactions/{ObjectId()}/",
                 f"/api/exchange-rates/alerts/{ObjectId()}/", "/api/transactions/xyz/"):
        assert call("get", path).status_code == 404, path


def test_the_migration_moves_rows_of_the_old_shape_into_organizations(make_user, make_organization):
    """wallets/0008's data move on documents written before organizations existed (no organization
    field): rows follow their user's (or wallet's) organization, unknown users the oldest one;
    hand-entered quotes become the organization's, market data stays shared."""
    import importlib

    from bson import Decimal128
    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("wallets.migrations.0008_organizations")
    oldest = make_organization("Oldest")
    type(oldest).objects.filter(pk=oldest.pk).update(created_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    user = make_user(organization=make_organization("Theirs"))
    eth, _ = Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    db = connection.database
    wallet_id = db["wallets"].insert_one({
        "name": "old", "address": Account.create().address, "user_id": user.pk, "wallet_type": "MetaMask",
        "encrypted_private_key": "", "is_active": True, "balance": Decimal128("0"), "monitoring_enabled": False, "slot": 0,
        "ownership_nonce": "", "created_at": WHEN, "updated_at": WHEN}).inserted_id
    row = {"transaction_type": "BUY", "cryptocurrency_id": eth.pk, "amount": Decimal128("1"), "transaction_date": WHEN,
           "source": "manual", "status": "CONFIRMED", "created_at": WHEN, "updated_at": WHEN}
    in_wallet = db["transactions"].insert_one({**row, "wallet_id": wallet_id, "user_id": user.pk}).inserted_id
    orphan = db["transactions"].insert_one({**row, "wallet_id": None, "user_id": ObjectId()}).inserted_id
    alert = db["price_alerts"].insert_one({"user_id": user.pk, "symbol": "ETH", "direction": "above",
                                           "threshold": Decimal128("1"), "fiat": "USD", "is_active": True,
                                           "created_at": WHEN, "updated_at": WHEN}).inserted_id
    manual = db["price_quotes"].insert_one({"symbol": "ETH", "fiat": "USD", "day": None, "price": Decimal128("1"),
                                            "source": "manual", "fetched_at": WHEN}).inserted_id
    market = db["price_quotes"].insert_one({"symbol": "ETH", "fiat": "USD", "day": None, "price": Decimal128("2"),
                                            "source": "coingecko", "fetched_at": WHEN}).inserted_id

    with connection.schema_editor() as editor:
        migration.rows_into_organizations(apps, editor)

    def organization_of(collection, pk):
        return db[collection].find_one({"_id": pk}).get("organization_id")

    assert organization_of("wallets", wallet_id) == user.organization_id
    assert organization_of("transactions", in_wallet) == user.organization_id
    assert organization_of("transactions", orphan) == oldest.pk
    assert organization_of("price_alerts", alert) == user.organization_id
    assert organization_of("price_quotes", manual) == oldest.pk
    assert organization_of("price_quotes", market) is None
