"""Access-matrix rows of classification (issue 15): the two classify endpoints and the review queue's
API, the transactions page (wallets/transaction_views.py) with its drawer and label override, the
classifier's panel and the review queue page.

Classifying is open to everyone who sees the transactions (a plain member: their own); the body names
a filter (the matrix fills no ids in bodies), so each caller classifies what it sees. Labels are
business fields: the owner (A's user made the transaction) or the books roles. The review queue is the
books roles'. A classification record of A is another organization's object for B (404)."""

from tests.security.access_table import BOOKS, Rule
from tests.security.world import SECRET

RECORD = "/api/ai/classifications/{classification_id}/"

API = {
    ("POST", "/api/transactions/classify/"): Rule(body={"filter": {}}),
    ("POST", "/api/ai/classify-transaction/"): Rule(body={"filter": {}}),
    ("GET", "/api/ai/classifications/review/"): Rule(BOOKS),
    ("POST", RECORD + "accept/"): Rule(obj="classification", body={}, destructive=True,
                                       note="422 without a suggestion: allowed, nothing changes"),
    ("POST", RECORD + "reject/"): Rule(obj="classification", body={}, destructive=True),
}

TX = "/app/transactions/{transaction_id}/"
PAGE_RECORD = "/app/classifications/{record_id}/"

PAGES = {
    ("GET", "/app/transactions/"): Rule(),
    ("POST", "/app/transactions/label/"): Rule(body={"label": "", "selected": []}),
    ("GET", TX): Rule(obj="transaction"),
    ("POST", TX + "label/"): Rule(obj="transaction", body={"label": "payment", "category": "business"},
                                  destructive=True),
    ("GET", TX + "classification/"): Rule(obj="transaction"),
    ("POST", TX + "classify/"): Rule(obj="transaction", body={}),
    ("GET", "/app/classifications/review/"): Rule(BOOKS),
    ("POST", PAGE_RECORD + "accept/"): Rule(obj="classification", body={}, destructive=True),
    ("POST", PAGE_RECORD + "reject/"): Rule(obj="classification", body={}, destructive=True),
}


def make_fresh(kit) -> dict:
    user, accountant = kit.actors["A:user"], kit.actors["A:accountant"]

    def new_classification():
        row = kit.ok(user.api(kit.client, "POST", "/api/transactions/", {
            "wallet_id": kit.objects["wallet"], "asset": "ETH", "transaction_type": "BUY", "amount": "0.25",
            "transaction_date": "2026-01-20T10:00:00Z", "price_at_transaction": "2000",
            "description": f"classified {SECRET}"}), "transaction to classify")
        kit.remember("transaction", row["id"])
        body = kit.ok(accountant.api(kit.client, "POST", "/api/transactions/classify/",
                                     {"transaction_id": row["id"]}), "classification")
        return kit.remember("classification", body["results"][0]["classification_id"])

    return {"classification": new_classification}
