"""The monitor asks the node in batches and adapts its eth_getLogs ranges, on a real anvil behind a
local JSON-RPC proxy that counts what it is asked and can behave like a strict provider: refusing
wide log ranges ("block range is too wide") or refusing batch requests altogether."""

import json
import threading
import urllib.request
from collections import Counter
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wallets import chain
from wallets.erc20 import erc20_deploy_demo_token, erc20_mint_demo
from wallets.models import Cryptocurrency, Transaction, WalletType
from wallets.monitoring import monitor_scan
from wallets.services import wallet_create, wallet_monitoring_enable

pytestmark = pytest.mark.django_db(transaction=True)


class Proxy:
    """Forwards JSON-RPC to the node; records every HTTP request's calls."""

    def __init__(self, upstream: str, *, max_log_range: int | None = None, refuse_batches: bool = False):
        self.upstream, self.max_log_range, self.refuse_batches = upstream, max_log_range, refuse_batches
        self.requests: list[list[dict]] = []  # each HTTP request: its calls
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                calls = body if isinstance(body, list) else [body]
                proxy.requests.append(calls)
                if isinstance(body, list) and proxy.refuse_batches:
                    return self._answer({"jsonrpc": "2.0", "id": None,
                                         "error": {"code": -32600, "message": "batch requests are not supported"}})
                refused = [proxy._refusal(call) for call in calls]
                if any(refused):
                    answers = [r or proxy._forward(call) for r, call in zip(refused, calls)]
                    return self._answer(answers if isinstance(body, list) else answers[0])
                return self._answer(proxy._forward(body))

            def _answer(self, payload):
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _refusal(self, call):
        if call.get("method") != "eth_getLogs" or self.max_log_range is None:
            return None
        query = call["params"][0]
        width = int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1
        if width > self.max_log_range:
            return {"jsonrpc": "2.0", "id": call["id"],
                    "error": {"code": -32005, "message": f"block range is too wide (max {self.max_log_range})"}}
        return None

    def _forward(self, body):
        request = urllib.request.Request(self.upstream, json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def log_ranges(self) -> list[int]:
        return [int(c["params"][0]["toBlock"], 16) - int(c["params"][0]["fromBlock"], 16) + 1
                for calls in self.requests for c in calls if c["method"] == "eth_getLogs"]

    def requests_with(self, method: str) -> int:
        return sum(1 for calls in self.requests if any(c["method"] == method for c in calls))

    def calls_of(self, method: str) -> int:
        return Counter(c["method"] for calls in self.requests for c in calls)[method]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def rpc(method, *params):
    return chain.web3_client().provider.make_request(method, list(params))["result"]


@pytest.fixture
def history(make_user, eth_node, settings):
    """A watched wallet, then 40 blocks holding 6 ETH transfers and 5 token mints to it, confirmed."""
    settings.ETH_CONFIRMATIONS = 1
    Cryptocurrency.objects.get_or_create(symbol="ETH", defaults={"name": "Ethereum"})
    wallet = wallet_create(user=make_user(), name="watched", wallet_type=WalletType.PRIVATE_KEY)
    wallet_monitoring_enable(wallet=wallet)
    token = erc20_deploy_demo_token(name="Batch Dollar", symbol="BUSD", decimals=6)
    Cryptocurrency.objects.create(name="Batch Dollar", symbol="BUSD", contract_address=token, decimals=6)
    monitor_scan()  # caught up: only what follows is scanned
    hashes = []
    for n in range(6):
        hashes.append(chain.eth_send_from_dev_account(to=wallet.address, amount_wei=chain.eth_to_wei(Decimal("0.01")) * (n + 1)))
        rpc("anvil_mine", hex(3))
    for n in range(5):
        hashes.append(erc20_mint_demo(token_address=token, to=wallet.address, amount=Decimal(f"{n + 1}.5"), decimals=6))
        rpc("anvil_mine", hex(4))
    return wallet, hashes


def _recorded(wallet):
    return sorted((row.hash, row.cryptocurrency.symbol, row.amount)
                  for row in Transaction.objects.filter(wallet=wallet).select_related("cryptocurrency"))


def test_blocks_and_receipts_are_asked_in_batches_and_wide_log_ranges_are_halved(history, settings):
    wallet, hashes = history
    proxy = Proxy(settings.ETH_RPC_URL, max_log_range=4)
    try:
        settings.ETH_RPC_URL = proxy.url
        report = monitor_scan()
    finally:
        proxy.stop()
    recorded = _recorded(wallet)
    assert report.recorded == 11 and {h for h, _, _ in recorded} == set(hashes)
    assert sorted(a for _, s, a in recorded if s == "BUSD") == [Decimal(f"{n}.5") for n in range(1, 6)]
    scanned = report.to_block - report.from_block + 1
    assert proxy.calls_of("eth_getBlockByNumber") >= scanned > 40
    # One request per 100 blocks (the chunk's batches), not one per block; receipts likewise.
    assert proxy.requests_with("eth_getBlockByNumber") <= 2 * (scanned // 100 + 2)
    assert proxy.requests_with("eth_getTransactionReceipt") < proxy.calls_of("eth_getTransactionReceipt")
    # Wide ranges were refused and split; the ranges answered cover the scan exactly once per filter.
    ranges = proxy.log_ranges()
    assert any(width > 4 for width in ranges)
    assert sum(width for width in ranges if width <= 4) == 2 * scanned


def test_a_node_that_refuses_batches_is_asked_one_call_at_a_time(history, settings):
    wallet, hashes = history
    proxy = Proxy(settings.ETH_RPC_URL, refuse_batches=True)
    try:
        settings.ETH_RPC_URL = proxy.url
        report = monitor_scan()
    finally:
        proxy.stop()
    assert report.recorded == 11 and {h for h, _, _ in _recorded(wallet)} == set(hashes)
    single = [calls for calls in proxy.requests if len(calls) == 1]
    assert any(len(calls) > 1 for calls in proxy.requests)  # it tried a batch first
    assert len(single) >= report.to_block - report.from_block + 1  # then every block on its own


def test_a_single_block_the_node_still_refuses_is_an_error_not_a_silent_gap(history, settings):
    wallet, _ = history
    from wallets.models import ChainCheckpoint

    before = ChainCheckpoint.objects.values_list("last_block", flat=True).first()
    proxy = Proxy(settings.ETH_RPC_URL, max_log_range=0)
    try:
        settings.ETH_RPC_URL = proxy.url
        with pytest.raises(Exception, match="too wide"):
            monitor_scan()
    finally:
        proxy.stop()
    # Nothing past the refused range is marked scanned: the next run asks again.
    assert ChainCheckpoint.objects.values_list("last_block", flat=True).first() == before


def test_the_database_is_asked_per_chunk_not_per_transfer(history):
    """Whether each movement's row exists and which addresses are the owner's wallets are read once for
    the chunk (in plain `$in` conditions the (organization, external_id) index serves), and a
    notification does not read its user again: none of these grows with the transfers."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    wallet, _ = history
    with CaptureQueriesContext(connection) as captured:
        report = monitor_scan()
    assert report.recorded == 11
    queries = [query["sql"] for query in captured.captured_queries]
    identity_reads = [q for q in queries if q.startswith("db.transactions.aggregate") and "'external_id'" in q]
    wallet_reads = [q for q in queries if q.startswith("db.wallets.aggregate") and "'address': {'$in'" in q]
    user_reads = [q for q in queries if q.startswith("db.users.aggregate")
                  and f"ObjectId('{wallet.user_id}')" in q]
    chunks = -(-(report.to_block - report.from_block + 1) // 200)
    assert len(identity_reads) <= chunks < report.recorded
    assert all("'$in'" in q and "'$expr'" not in q.split("'external_id'")[0][-200:] for q in identity_reads)
    assert len(wallet_reads) <= chunks
    assert len(user_reads) < report.recorded
