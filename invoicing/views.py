"""HTMX pages of invoicing. The public payment page `/pay/<token>/` needs no login: the token is
unguessable (192 random bits, given when the invoice is issued) and the page shows only what the
payer needs: the invoice number, amounts, the address, the EIP-681 request with its QR code and the
status, which it polls (HTMX, every 10 s) so the page turns to "paid" when the chain payment is
matched. A draft has no token; an unknown token is 404."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from invoicing import selectors
from invoicing.models import InvoiceStatus
import invoicing.services.crypto as crypto
from invoicing.services.payments import crypto_due

POLL_SECONDS = 10


def _pay_context(token: str) -> dict:
    invoice = selectors.invoice_by_payment_token(token)
    if invoice is None:
        raise Http404("No such payment request.")
    open_ = invoice.status not in (InvoiceStatus.PAID, InvoiceStatus.CANCELLED)
    uri = crypto.invoice_payment_uri(invoice) if open_ else ""
    return {"invoice": invoice, "token": token, "payment_uri": uri, "qr_svg": crypto.qr_svg(uri) if uri else "",
            "crypto_due": crypto_due(invoice), "is_open": open_, "poll_seconds": POLL_SECONDS}


@require_GET
def pay_page(request, token: str):
    return render(request, "invoicing/pay.html", _pay_context(token))


@require_GET
def pay_status(request, token: str):
    return render(request, "invoicing/_pay_status.html", _pay_context(token))
