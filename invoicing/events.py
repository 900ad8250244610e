"""Live events of the public payment page: one group per issued invoice ("invoice.<id>.pay"), which
only the page's WebSocket (/ws/pay/<token>/, invoicing.consumers) joins, after proving the token.
Events carry only what the page shows (status, what is still due); they go through
core.realtime.publish, so they are written after the commit and never after a rollback.

- `payment.seen`: the wallet monitor recorded an incoming transfer this invoice's rule matches
  (confirmed on chain, not yet applied by the settlement task);
- `payment.confirmed`: settlement applied a payment (PARTIALLY_PAID or PAID);
- `invoice.updated`: anything else the page shows changed (re-quote, overdue, cancelled, credited).
"""

from __future__ import annotations

from core.money import plain
from core.realtime import publish

PAYMENT_SEEN = "payment.seen"
PAYMENT_CONFIRMED = "payment.confirmed"
INVOICE_UPDATED = "invoice.updated"
_CONFIRMING = {"invoice.payment", "invoice.paid"}


def pay_group(invoice_id) -> str:
    return f"invoice.{invoice_id}.pay"


def _text(amount) -> str | None:
    return None if amount is None else plain(amount)


def pay_payload(invoice, **extra) -> dict:
    """What the page shows, as JSON-ready text (amounts as plain decimal strings)."""
    return {"status": str(invoice.status), "amount_due": _text(invoice.amount_due), "currency": invoice.currency,
            "crypto_due": _text(invoice.crypto_due), "crypto_currency": invoice.crypto_currency, **extra}


def pay_publish(invoice, invoice_event_type: str) -> None:
    """Tell the invoice's payment page (if it has one) about one of its invoice events."""
    if not invoice.payment_token:
        return
    kind = PAYMENT_CONFIRMED if invoice_event_type in _CONFIRMING else INVOICE_UPDATED
    publish(pay_group(invoice.pk), kind, pay_payload(invoice))


def payment_seen_publish(invoice, *, amount, tx_hash: str) -> None:
    if invoice.payment_token:
        publish(pay_group(invoice.pk), PAYMENT_SEEN, pay_payload(invoice, amount=_text(amount), tx_hash=tx_hash))
