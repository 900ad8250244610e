"""Access-matrix rows of invoicing (issue 12): the nine /api/invoices/ endpoints and the public
payment page. Invoices are the books' (core.permissions.can_view_invoices / can_edit_invoices):
accountants, managers and admins read them and work drafts; sending and status changes (issuing posts
to the books) are the staff's (can_issue_invoices). The payment page needs no login: its token is the
capability, so it is not one of A's secret ids; the page shows the receiving address (public chain
data) and no name of A."""

from tests.security.access_table import BOOKS, STAFF, Rule
from tests.security.world import SECRET

INVOICE = "/api/invoices/{invoice_id}/"


def _body(marker: str = "matrix", secret: str = SECRET) -> dict:
    return {"client_name": f"{marker} client {secret}", "client_email": "client@outside.test",
            "items": [{"description": f"{marker} work {secret}", "quantity": "2", "unit_price": "125.00"}],
            "tax_rate": "10"}


API = {
    ("GET", "/api/invoices/"): Rule(BOOKS),
    ("POST", "/api/invoices/"): Rule(BOOKS, body=_body(secret="")),  # B echoes what it sent
    ("GET", "/api/invoices/templates/"): Rule(BOOKS),
    ("GET", INVOICE): Rule(BOOKS, obj="invoice"),
    ("PUT", INVOICE): Rule(BOOKS, obj="invoice", body={"notes": "matrix note"}),
    ("DELETE", INVOICE): Rule(BOOKS, obj="invoice", destructive=True),
    ("POST", INVOICE + "send/"): Rule(STAFF, obj="invoice", body={}, destructive=True,
                                      note="issues the draft and emails it"),
    ("GET", INVOICE + "pdf/"): Rule(BOOKS, obj="invoice"),
    ("PUT", INVOICE + "status/"): Rule(STAFF, obj="invoice", body={"status": "SENT"}, destructive=True),
}

PAGES = {
    ("GET", "/pay/{token}/"): Rule(public=True, obj="invoice_token", extra={"chain_data": True}),
    ("GET", "/pay/{token}/status/"): Rule(public=True, obj="invoice_token", extra={"chain_data": True}),
}


def make_fresh(kit) -> dict:
    accountant, manager = kit.actors["A:accountant"], kit.actors["A:manager"]

    def new_invoice():
        body = kit.ok(accountant.api(kit.client, "POST", "/api/invoices/", _body("fresh")), "invoice")
        return kit.remember("invoice", body["id"])

    def new_payment_request():
        body = kit.ok(accountant.api(kit.client, "POST", "/api/invoices/", {
            **_body("crypto"), "payment_wallet_id": kit.objects["wallet"], "crypto_currency": "ETH"}), "crypto invoice")
        kit.remember("crypto_invoice", body["id"])
        issued = kit.ok(manager.api(kit.client, "PUT", f"/api/invoices/{body['id']}/status/", {"status": "SENT"}),
                        "issue crypto invoice")
        token = issued["payment_url"].rstrip("/").rsplit("/", 1)[-1]
        # The token is the payer's capability (shared with whoever pays), not one of A's hidden ids.
        kit.objects.setdefault("invoice_token", token)
        return token

    return {"invoice": new_invoice, "invoice_token": new_payment_request}
