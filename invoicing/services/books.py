"""The invoices' journal entries, posted by the system user for the invoice's organization inside the
transaction that changes the invoice (so an invoice is never issued or paid without its entry, and
never twice: each entry has a source key unique in the organization, `invoice:<id>:<event>`).

- Issuing an invoice: Dr receivables total / Cr revenue subtotal / Cr tax_payable tax.
- A credit note: the same lines reversed for its (negative) amounts: Dr revenue, Dr tax_payable /
  Cr receivables.
- Cancelling an issued invoice: the issue entry is reversed.
- A manual payment: Dr bank (or cash) / Cr receivables (and Cr payables for what came in beyond the
  amount due: owed back to the client).
- A crypto payment: Dr the organization's crypto asset account of the asset (fair value at receipt,
  with the quantity) / Cr receivables (the part of the invoice settled) / Cr payables (fair value of
  an overpayment, owed back to the client), and the exchange difference between the fair value and
  the fiat settled to fx_gains (Cr) or fx_losses (Dr). Every entry carries the invoice number as
  reference and the payment's tx hash. (The ledger's automatic journals leave such an unpaired
  incoming transfer unbooked today - it reports it as a transfer "in transit" - so the coins are
  booked once, here.)
"""

from __future__ import annotations

import datetime as dt
from accounts.services import system_user_get
from core.money import ZERO
from ledger.services import (
    chart_account_get,
    crypto_asset_account_get_or_create,
    journal_entry_create,
    journal_entry_reverse,
)
from ledger.services import numbering as ledger_numbering


def _code(key: str, organization_id) -> str:
    return chart_account_get(key=key, organization_id=organization_id).account_code


def _line(key, organization_id, *, debit=ZERO, credit=ZERO, description=""):
    return {"account_code": _code(key, organization_id), "debit_amount": debit, "credit_amount": credit,
            "description": description}


def prepare(organization_id, day: dt.date, *, asset: str = "") -> None:
    """Outside the transaction: the ledger's number counter of the year (ledger.services.numbering)
    and the crypto asset account exist, so the transaction inserts neither."""
    ledger_numbering.counter_ensure(organization_id, day.year)
    if asset:
        crypto_asset_account_get_or_create(symbol=asset, organization_id=organization_id)


def _post(invoice, *, event: str, day: dt.date, description: str, lines: list, transaction_hash: str = ""):
    lines = [line for line in lines if line["debit_amount"] or line["credit_amount"]]
    if not lines:
        return None
    return journal_entry_create(
        created_by=system_user_get(), organization_id=invoice.organization_id, post=True, date=day,
        description=description, reference=invoice.invoice_number or "", transaction_hash=transaction_hash,
        currency=invoice.currency, line_items=lines, source_key=f"invoice:{invoice.pk}:{event}")


def post_issue(invoice, day: dt.date):
    org = invoice.organization_id
    if invoice.is_credit_note:
        total, subtotal, tax = -invoice.total_amount, -invoice.subtotal, -invoice.tax_amount
        lines = [_line("revenue", org, debit=subtotal), _line("tax_payable", org, debit=tax),
                 _line("receivables", org, credit=total)]
        text = f"Credit note {invoice.invoice_number} to {invoice.client_name}"
    else:
        lines = [_line("receivables", org, debit=invoice.total_amount),
                 _line("revenue", org, credit=invoice.subtotal), _line("tax_payable", org, credit=invoice.tax_amount)]
        text = f"Invoice {invoice.invoice_number} to {invoice.client_name}"
    return _post(invoice, event="issue", day=day, description=text[:1000], lines=lines)


def reverse_issue(invoice):
    if invoice.issue_entry_id is None:
        return None
    return journal_entry_reverse(entry=invoice.issue_entry, actor=system_user_get(),
                                 description=f"Invoice {invoice.invoice_number} cancelled")


def post_payment(invoice, payment, *, day: dt.date, cash_account_key: str | None = None):
    """`cash_account_key`: "bank" or "cash" for a manual payment; None for a crypto one."""
    org = invoice.organization_id
    settled, over, fair = payment.fiat_amount, payment.overpaid_amount, payment.fair_value
    if cash_account_key is not None:
        lines = [_line(cash_account_key, org, debit=settled + over), _line("receivables", org, credit=settled),
                 _line("payables", org, credit=over, description="overpayment owed to the client")]
        text = f"Payment of invoice {invoice.invoice_number} ({payment.method.lower()})"
    else:
        fx = fair - settled - over
        asset = crypto_asset_account_get_or_create(symbol=payment.asset, organization_id=org)
        lines = [{"account_code": asset.account_code, "debit_amount": fair, "credit_amount": ZERO,
                  "asset": payment.asset, "quantity": payment.crypto_amount,
                  "description": f"{payment.crypto_amount} {payment.asset} received at fair value"},
                 _line("receivables", org, credit=settled),
                 _line("payables", org, credit=over, description="overpayment owed to the client"),
                 _line("fx_gains", org, credit=fx) if fx > 0 else _line("fx_losses", org, debit=-fx)]
        text = (f"Payment of invoice {invoice.invoice_number}: {payment.crypto_amount} {payment.asset}"
                f" at fair value {fair}")
    return _post(invoice, event=f"payment:{payment.external_id}", day=day, description=text[:1000], lines=lines,
                 transaction_hash=payment.tx_hash)
