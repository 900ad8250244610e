"""Access-matrix rows of invoicing (issue 12): the nine /api/invoices/ endpoints, the back-office
pages under /app/invoices/ and the public payment page. Invoices are the books' (core.permissions.can_view_invoices / can_edit_invoices):
accountants, managers and admins read them and work drafts; sending and status changes (issuing posts
to the books) are the staff's (can_issue_invoices). The payment page needs no login: its token is the
capability, so it is not one of A's secret ids; the page shows the receiving address (public chain
data) and no name of A."""

import datetime as dt
import secrets

from django.utils import timezone

from invoicing.models import Invoice, UnappliedPayment, UnappliedReason
from tests.security.access_table import BOOKS, NOBODY, STAFF, Rule
from tests.security.world import SECRET
from wallets.models import (
    Cryptocurrency,
    Transaction,
    TransactionSource,
    TransactionStatus,
    TransactionType,
    TransferDirection,
    Wallet,
)

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
    # The matrix fills every path parameter with one id: the unapplied payment is made with its
    # invoice's id (another collection), so the one id names both (make_fresh below).
    ("POST", INVOICE + "unapplied-payments/{unapplied_id}/apply/"): Rule(
        STAFF, obj="unapplied_payment", body={}, destructive=True, note="applies it to the invoice"),
    ("POST", INVOICE + "unapplied-payments/{unapplied_id}/dismiss/"): Rule(
        STAFF, obj="unapplied_payment", body={"reason": "refunded"}, destructive=True),
}

# The payment page's socket needs no login; the token in its path is the capability. The matrix opens
# the route as written ("<str:token>" is no token), so nobody of A or B may join it: every caller is
# closed with 4404 (tests/realtime/test_invoice_pay_socket.py covers a real token and its events).
WEBSOCKETS = {"/ws/pay/<str:token>/": NOBODY}

PAGE = "/app/invoices/{invoice_id}/"


def _form(marker: str = "matrix", secret: str = "") -> dict:
    return {"client_name": f"{marker} client {secret}", "client_email": "client@outside.test", "tax_rate": "10",
            "line_description": [f"{marker} work {secret}"], "line_quantity": ["2"], "line_unit_price": ["125.00"],
            "line_tax_rate": [""]}


PAGES = {
    ("GET", "/pay/{token}/"): Rule(public=True, obj="invoice_token", extra={"chain_data": True}),
    ("GET", "/pay/{token}/status/"): Rule(public=True, obj="invoice_token", extra={"chain_data": True}),
    ("GET", "/app/invoices/"): Rule(BOOKS),
    ("GET", "/app/invoices/new/"): Rule(BOOKS),
    ("POST", "/app/invoices/new/"): Rule(BOOKS, body=_form()),  # B makes its own draft
    ("POST", "/app/invoices/totals/"): Rule(BOOKS, body=_form()),
    ("GET", PAGE): Rule(BOOKS, obj="invoice"),
    ("GET", PAGE + "edit/"): Rule(BOOKS, obj="invoice"),
    ("POST", PAGE + "edit/"): Rule(BOOKS, obj="invoice", body=_form("edited"), destructive=True),
    ("GET", PAGE + "pdf/"): Rule(BOOKS, obj="invoice"),
    ("POST", PAGE + "issue/"): Rule(STAFF, obj="invoice", body={}, destructive=True),
    ("POST", PAGE + "send/"): Rule(STAFF, obj="invoice", body={}, destructive=True, note="issues and emails"),
    ("POST", PAGE + "cancel/"): Rule(STAFF, obj="invoice", body={}, destructive=True),
    ("POST", PAGE + "credit-note/"): Rule(STAFF, obj="issued_invoice", body={"reason": "matrix"}, destructive=True),
    ("POST", PAGE + "requote/"): Rule(STAFF, obj="crypto_invoice", body={}, destructive=True),
    ("POST", PAGE + "payment/"): Rule(STAFF, obj="issued_invoice", body={"amount": "10", "method": "BANK"},
                                      destructive=True),
    ("POST", PAGE + "delete/"): Rule(BOOKS, obj="invoice", body={}, destructive=True),
    ("POST", PAGE + "unapplied/{unapplied_id}/apply/"): Rule(STAFF, obj="unapplied_payment", body={},
                                                             destructive=True),
    ("POST", PAGE + "unapplied/{unapplied_id}/dismiss/"): Rule(STAFF, obj="unapplied_payment",
                                                               body={"reason": "refunded"}, destructive=True),
}


def make_fresh(kit) -> dict:
    accountant, manager = kit.actors["A:accountant"], kit.actors["A:manager"]

    def new_invoice():
        body = kit.ok(accountant.api(kit.client, "POST", "/api/invoices/", _body("fresh")), "invoice")
        return kit.remember("invoice", body["id"])

    def issued(body_extra: dict, kind: str):
        body = kit.ok(accountant.api(kit.client, "POST", "/api/invoices/", {**_body(kind), **body_extra}), kind)
        issued = kit.ok(manager.api(kit.client, "PUT", f"/api/invoices/{body['id']}/status/", {"status": "SENT"}),
                        f"issue {kind}")
        kit.remember(kind, body["id"])
        return issued

    def new_issued_invoice():
        return issued({}, "issued_invoice")["id"]

    def new_crypto_invoice():
        return issued({"payment_wallet_id": kit.objects["wallet"], "crypto_currency": "ETH"}, "crypto_invoice")["id"]

    def new_payment_request():
        invoice = issued({"payment_wallet_id": kit.objects["wallet"], "crypto_currency": "ETH"}, "crypto_invoice")
        token = invoice["payment_url"].rstrip("/").rsplit("/", 1)[-1]
        # The token is the payer's capability (shared with whoever pays), not one of A's hidden ids.
        kit.objects.setdefault("invoice_token", token)
        return token

    def new_unapplied_payment():
        # A crypto invoice whose quote expired, then a transfer into its wallet that settlement records
        # as unapplied; the record gets its invoice's id (see the rows above).
        invoice_id = issued({"payment_wallet_id": kit.objects["wallet"], "crypto_currency": "ETH"},
                            "unapplied_invoice")["id"]
        invoice = Invoice.objects.get(pk=invoice_id)
        Invoice.objects.filter(pk=invoice.pk).update(crypto_valid_until=timezone.now() - dt.timedelta(seconds=1))
        wallet = Wallet.objects.get(pk=kit.objects["wallet"])
        tx_hash = "0x" + secrets.token_hex(32)
        transfer = Transaction.objects.create(
            transaction_type=TransactionType.TRANSFER, user=wallet.user, organization=wallet.organization,
            wallet=wallet, cryptocurrency=Cryptocurrency.objects.get(symbol="ETH"), amount=invoice.crypto_amount,
            transaction_date=timezone.now(), hash=tx_hash, from_address="0x" + "1" * 40, to_address=wallet.address,
            source=TransactionSource.CHAIN, external_id=f"chain:{tx_hash}:-1:{wallet.address}",
            direction=TransferDirection.IN, status=TransactionStatus.CONFIRMED)
        UnappliedPayment.objects.create(
            pk=invoice.pk, organization_id=invoice.organization_id, invoice=invoice, transaction=transfer,
            external_id=transfer.external_id, tx_hash=tx_hash, asset="ETH", amount=transfer.amount,
            mined_at=transfer.transaction_date, seen_at=timezone.now(), reason=UnappliedReason.QUOTE_EXPIRED)
        return kit.remember("unapplied_payment", invoice_id)

    return {"invoice": new_invoice, "issued_invoice": new_issued_invoice, "crypto_invoice": new_crypto_invoice,
            "invoice_token": new_payment_request, "unapplied_payment": new_unapplied_payment}
