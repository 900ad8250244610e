"""Crypto payouts of payslips, exactly once (the spec's "Safe payouts").

The on-chain part is wallets.transfers.payout_send: one payment per (organization, intent key),
the intent (nonce, signed raw transaction, hash) stored in ONE insert before anything is broadcast;
a retry with the same key sends the stored bytes again and never signs a second payment; the send
reconciler (wallets.reconciler, start-up and every minute) rebroadcasts, settles mined sends after
ETH_CONFIRMATIONS blocks and fills nonce gaps. Payroll adds, per payslip:

1. Terms (`crypto_payouts_start`, needs a session approved by password, like every spend from a
   key): the net pay converted at the price of the processing moment (rate and its source stored),
   in the asset's decimals (payroll.engine.token_amount), the company wallet, and the intent key
   `payslip:<id>:<attempt>`. Before anything is written the whole batch is checked against the
   wallet's balances (amounts plus the maximum gas of each send): a batch that cannot be funded
   pays nothing. Then ONE transaction moves every payslip pending -> processing with its terms and
   posts its accrual (conditional updates: a payslip gets terms once). From here the payslip is
   bound to its stored terms: a retry sends the same amount, whatever the price does.
2. Sends (`crypto_payouts_send`), one payslip after the other in payslip order from one wallet, so
   the nonces wallets assigns are consecutive: payout_send(intent_key=...), then the transfer is
   linked to the payslip and its transaction row labelled a payment (the ledger's automatic journal
   then books it as a disposal at the organization's cost basis, wallets' row being the one record
   of the movement). A definite refusal (funds gone meanwhile, the node refused the bytes) makes the
   payslip FAILED; a node that is down leaves it processing (the task sends it later).
3. Settlement (`crypto_payouts_settle`): a payslip is PAID once its transfer is CONFIRMED (after
   ETH_CONFIRMATIONS blocks), FAILED if it reverted. wallets announces a settled send with
   `transactions_changed` (the ledger's hook); payroll connects to it (payroll/apps.py) and settles
   that organization's payslips, and the periodic task `payroll_payouts` catches up whatever a crash
   or a missed signal left (it also sends payslips whose process died before their send).
   The books: the transfer's row is labelled "salary", and the ledger's automatic journal books it
   once (ledger.journal_rules, the salary rule): Dr Payroll liabilities at the coins' fair value of
   the day / Cr the crypto asset at cost, the realised gain or loss, the actual gas to Gas fees.
   Payroll posts only what the ledger cannot know, in the same transaction as the status change
   (source key `payroll:<id>:payment`, so once; nothing when it is zero): the fee charged to the
   employee (Dr Payroll liabilities / Cr Gas fees: the employee's share of the gas, so Gas fees keeps
   actual - charged, the company's) and the exchange difference between the net pay owed (at the
   processing rate) and the fair value the ledger settles (to Realised exchange gains or losses).
   The net pay's part of Payroll liabilities ends at zero (what stays is the withheld insurance).
A FAILED payslip is paid again only by an explicit `payslip_payment_process` (a new attempt, a new
intent key, a new rate). Gas: borne by the company by default (the employee receives the full net
pay); with the organization's `gas_fee_bearer = employee` the fee is fixed with the terms
(payroll.engine.gas: gas limit x max fee per gas at the processing moment, in the asset at the stored
rates) and deducted from the amount sent; a batch where any payslip's net pay does not cover its fee
pays nothing (422 gas_exceeds_net_pay).
Progress is published after each step to the organization's books audience on /ws/live/
(`payroll.payout_progress`: stage queued | intent | sent | confirmed | failed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
import threading
from decimal import Decimal

from bson import ObjectId
from django.db.models import Q
from django.utils import timezone
from web3 import Web3
from web3.exceptions import Web3Exception

from accounts.sessions import require_approved_session
from core import permissions
from core.errors import Conflict, DomainError, ErrorCode, InvalidInput, NotFound, Unavailable
from core.money import FIAT_DECIMALS
from core.models import Organization
from core.realtime import Audience, organization_group, publish
from core.transactions import after_commit as run_after_commit, in_transaction
from ledger.services import journal_entries_post_batch
from ledger.tax_trades import tax_trades_for
from payroll import engine
from payroll.engine.rounding import EXACT
from payroll.models import (
    ApprovalStatus,
    GasFeeBearer,
    PaymentMethod,
    PaymentStatus,
    PayrollPeriod,
    PeriodStatus,
    Payslip,
)
from payroll.services.common import MANAGERS_ONLY, engine_call, payroll_settings_get
from payroll.services.payments import accounts_of, accrual_spec, announce_paid, journal_counters_ensure
from wallets import chain, networks, transfers
from wallets.erc20 import erc20_contract
from wallets.models import Cryptocurrency, OutgoingTransfer, PriceQuote, Transaction, TransferStatus, Wallet
from wallets.prices import price_current
from wallets.services import transaction_update
from wallets.services.transactions import TransactionCategory, TransactionLabel

logger = logging.getLogger(__name__)

DEFAULT_ASSET = "ETH"
TOKEN_GAS_RESERVE = 100_000  # gas a token transfer may take, reserved per send by the funding check
PAYMENT_LABEL = "salary"  # the row's tax category: a spend for the cost basis, the ledger's salary rule
PROGRESS_EVENT = "payroll.payout_progress"


class Stage:
    QUEUED = "queued"  # terms fixed, no intent yet
    INTENT = "intent"  # the signed transaction is stored (PREPARED)
    SENT = "sent"  # the node has it (BROADCAST)
    CONFIRMED = "confirmed"  # paid
    FAILED = "failed"


# --- progress --------------------------------------------------------------------------------------------
def progress_publish(payslip: Payslip, stage: str, transfer: OutgoingTransfer | None = None, error: str = "") -> None:
    data = {"period": str(payslip.period_id), "payslip": str(payslip.pk), "payslip_id": payslip.payslip_id,
            "stage": stage}
    if transfer is not None:
        data.update(tx_hash=transfer.tx_hash, nonce=transfer.nonce)
    if error:
        data["error"] = error[:300]
    publish(organization_group(payslip.organization_id, Audience.BOOKS), PROGRESS_EVENT, data)


# --- the wallet and the terms ----------------------------------------------------------------------------
def payout_wallet_resolve(*, actor, organization_id, wallet_id=None) -> Wallet:
    """The company wallet to pay from: `wallet_id`, else the organization's payout wallet."""
    if wallet_id is None:
        wallet_id = payroll_settings_get(organization_id).payout_wallet_id
    if wallet_id is None:
        raise InvalidInput(ErrorCode.PAYOUT_WALLET_REQUIRED,
                           "Crypto payslips are paid from a company wallet: name it (wallet_id) or set the "
                           "organization's payout wallet.", {"field": "wallet_id"})
    wallet = (Wallet.objects.for_organization(organization_id).filter(pk=wallet_id).first()
              if ObjectId.is_valid(str(wallet_id)) else None)
    if wallet is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such wallet in this organization.")
    permissions.require(permissions.can_send_from_wallet(actor, wallet),
                        "Only the wallet's owner or a manager can pay from it.")
    networks.default_network_required(wallet, "Crypto payslips")
    return wallet


def _rate_of(symbol: str, fiat: str, organization) -> tuple[Decimal, str]:
    """The price of the processing moment (wallets.prices.price_current) and where it came from."""
    rate = price_current(symbol=symbol, fiat=fiat, organization=organization)
    quote = (PriceQuote.objects.for_organization(organization.pk).filter(symbol=symbol, fiat=fiat, price=rate)
             .order_by("-fetched_at").first())
    source = quote.source if quote is not None else "price store"
    return Decimal(rate), f"{source} {quote.day.isoformat()}" if quote is not None and quote.day else str(source)


def _terms(payslip: Payslip, organization) -> dict:
    symbol = (payslip.payout_asset or DEFAULT_ASSET).strip().upper()
    token = Cryptocurrency.objects.filter(symbol=symbol, is_active=True).first()
    if token is None:
        raise InvalidInput(ErrorCode.UNKNOWN_ASSET, f"Payslip {payslip.payslip_id}: {symbol!r} is not a tracked asset.",
                           {"payslip": payslip.payslip_id})
    if not payslip.wallet_address:
        raise Conflict(ErrorCode.EMPLOYEE_WALLET_MISSING,
                       f"Payslip {payslip.payslip_id} is paid in crypto and the employee has no wallet address.",
                       {"payslip": payslip.payslip_id})
    rate, source = _rate_of(symbol, payslip.currency, organization)
    amount, _ = engine_call(engine.token_amount, Decimal(payslip.net_salary), rate, token.decimals)
    if amount <= 0:
        raise InvalidInput(ErrorCode.INVALID_AMOUNT, f"Payslip {payslip.payslip_id}: the net pay is worth nothing "
                           f"in {symbol}.", {"payslip": payslip.payslip_id})
    return {"token": token, "payout_asset": symbol, "payout_amount": amount, "payout_net_amount": amount,
            "payout_rate": rate, "payout_rate_source": source[:50], "gas_fee_bearer": GasFeeBearer.COMPANY,
            "gas_fee_charged": None, "gas_fee_charged_eth": None, "gas_fee_charged_fiat": None,
            "gas_charge_limit": None, "gas_charge_max_fee_per_gas": None, "gas_charge_eth_rate": None}


def _eth_rate_for_gas(payslip: Payslip, organization) -> Decimal:
    try:
        rate, _ = _rate_of(DEFAULT_ASSET, payslip.currency, organization)
    except NotFound:
        raise InvalidInput(ErrorCode.GAS_FEE_RATE_UNAVAILABLE,
                           f"Payslip {payslip.payslip_id}: the gas is paid in ETH and borne by the employee, and "
                           f"there is no {payslip.currency} price for ETH to convert the fee into "
                           f"{payslip.payout_asset}: enter one; nothing was paid.",
                           {"payslip": payslip.payslip_id, "asset": "ETH", "fiat": payslip.currency}) from None
    return rate


def _employee_gas(wallet: Wallet, plans: list[tuple[Payslip, dict]], organization) -> None:
    """The organization's employees bear the gas: fix each payslip's fee (payroll.engine.gas) into its
    terms and lower the amount sent by it. Gas limit: 21,000 for ETH, the node's estimate x 1.2 for a
    token (as wallets signs it); max fee per gas: the node's quote of this moment (wallets.transfers.fee_quote).
    Raises before anything is written (the whole batch pays nothing) when a net pay does not cover its fee
    or a token payout's fee cannot be priced."""
    try:
        w3 = chain.web3_client()
        max_fee, _ = transfers.fee_quote(w3)
        limits = []
        for payslip, terms in plans:
            token = terms["token"]
            if token.contract_address:
                raw = int(terms["payout_net_amount"].scaleb(token.decimals))
                estimate = erc20_contract(w3, token.contract_address).functions.transfer(
                    Web3.to_checksum_address(payslip.wallet_address), raw).estimate_gas({"from": wallet.address})
                limits.append(int(estimate * 1.2))  # as wallets.transfers signs a token transfer
            else:
                limits.append(transfers.ETH_TRANSFER_GAS)
    except chain.ChainError as exc:
        raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE, str(exc)) from None
    except (Web3Exception, ValueError) as exc:
        raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE, f"The node could not estimate a token transfer's gas, so the "
                          f"fee borne by the employee cannot be fixed; nothing was paid ({exc}).") from None
    for (payslip, terms), gas_limit in zip(plans, limits):
        token = terms["token"]
        rates = {}
        if token.contract_address:
            rates = {"eth_rate": _eth_rate_for_gas(payslip, organization), "asset_rate": terms["payout_rate"]}
        charge = engine_call(engine.employee_gas_charge, net_amount=terms["payout_net_amount"],
                             decimals=token.decimals, gas_limit=gas_limit, max_fee_per_gas=max_fee,
                             what=f"payslip {payslip.payslip_id}", **rates)
        terms.update(payout_amount=charge.sent_amount, gas_fee_bearer=GasFeeBearer.EMPLOYEE,
                     gas_fee_charged=charge.fee_amount, gas_fee_charged_eth=charge.fee_eth,
                     gas_fee_charged_fiat=EXACT.multiply(charge.fee_amount, terms["payout_rate"]).quantize(
                         Decimal(1).scaleb(-FIAT_DECIMALS), context=EXACT),  # the books' precision
                     gas_charge_limit=charge.gas_limit, gas_charge_max_fee_per_gas=charge.max_fee_per_gas,
                     gas_charge_eth_rate=rates.get("eth_rate"))


def _funding_check(wallet: Wallet, plans: list[tuple[Payslip, dict]]) -> None:
    """Nothing is written unless the wallet holds every amount of the batch plus each send's maximum gas."""
    try:
        w3 = chain.web3_client()
        max_fee, _ = transfers.fee_quote(w3)
        need_wei, need_tokens = 0, {}
        for _, terms in plans:
            token = terms["token"]
            raw = int(terms["payout_amount"].scaleb(token.decimals))
            if token.contract_address:
                need_tokens[token] = need_tokens.get(token, 0) + raw
                need_wei += TOKEN_GAS_RESERVE * max_fee
            else:
                need_wei += raw + transfers.ETH_TRANSFER_GAS * max_fee
        short = []
        balance = w3.eth.get_balance(wallet.address, "pending")
        if balance < need_wei:
            short.append({"asset": "ETH", "balance": str(chain.wei_to_eth(balance)),
                          "needed": str(chain.wei_to_eth(need_wei))})
        for token, raw in need_tokens.items():
            held = erc20_contract(w3, token.contract_address).functions.balanceOf(wallet.address).call()
            if held < raw:
                short.append({"asset": token.symbol, "balance": str(Decimal(held).scaleb(-token.decimals)),
                              "needed": str(Decimal(raw).scaleb(-token.decimals))})
    except chain.ChainError as exc:
        raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE, str(exc)) from None
    if short:
        raise InvalidInput(ErrorCode.INSUFFICIENT_FUNDS,
                           "The wallet cannot fund this payroll (amounts plus gas): nothing was paid.",
                           {"wallet": str(wallet.pk), "short": short})


# The terms a payslip's payout is bound to once they are fixed (stored before any intent; never recomputed).
TERM_FIELDS = ("payout_asset", "payout_amount", "payout_net_amount", "payout_rate", "payout_rate_source",
               "gas_fee_bearer", "gas_fee_charged", "gas_fee_charged_eth", "gas_fee_charged_fiat", "gas_charge_limit",
               "gas_charge_max_fee_per_gas", "gas_charge_eth_rate")


@dataclass
class PayoutPlan:
    """Checked terms of a batch, not yet written (crypto_payouts_plan -> crypto_payouts_commit)."""
    actor: object
    period: PayrollPeriod
    wallet: Wallet
    plans: list
    expected_status: str
    codes: dict


def crypto_payouts_plan(*, actor, session, period: PayrollPeriod, payslips: list[Payslip], wallet_id=None,
                        retry_failed: bool = False) -> PayoutPlan:
    """Check a batch of approved crypto payslips of `period` (pending; with `retry_failed` failed ones,
    for a new attempt) and price it, writing nothing: the session approved by password, the wallet,
    every payslip's terms, and the wallet's balances against the whole batch plus gas."""
    permissions.require(permissions.can_manage_payroll(actor), MANAGERS_ONLY)
    require_approved_session(session)
    organization = Organization.objects.get(pk=period.organization_id)
    wallet = payout_wallet_resolve(actor=actor, organization_id=organization.pk, wallet_id=wallet_id)
    plans = [(payslip, _terms(payslip, organization)) for payslip in payslips]
    _funding_check(wallet, plans)  # the full net amounts: the employee's fee only lowers what is sent
    if payroll_settings_get(organization.pk).gas_fee_bearer == GasFeeBearer.EMPLOYEE:
        _employee_gas(wallet, plans, organization)
    journal_counters_ensure(organization.pk, period.pay_date)
    return PayoutPlan(actor=actor, period=period, wallet=wallet, plans=plans, codes=accounts_of(organization.pk),
                      expected_status=PaymentStatus.FAILED if retry_failed else PaymentStatus.PENDING)


def crypto_payouts_commit(plan: PayoutPlan) -> list[Payslip]:
    """In one transaction (or inside the caller's): every payslip of the plan moves to processing
    with its terms and intent key (conditional: once), its accrual is posted, the period is
    processing. Sends nothing (crypto_payouts_send does, after the commit)."""
    actor, period, wallet = plan.actor, plan.period, plan.wallet

    def work():
        now = timezone.now()
        specs, owners = [], []
        for payslip, terms in plan.plans:
            current = Payslip.objects.get(pk=payslip.pk)
            attempt = current.payout_attempts + 1
            updated = Payslip.objects.filter(
                pk=payslip.pk, payment_status=plan.expected_status, approval_status=ApprovalStatus.APPROVED,
                payment_method=PaymentMethod.CRYPTO, payout_attempts=current.payout_attempts,
            ).update(payment_status=PaymentStatus.PROCESSING, payout_wallet=wallet, payout_intent_key=f"payslip:{payslip.pk}:{attempt}",
                     payout_attempts=attempt, payout_transfer=None, payout_error="", paid_by=actor, updated_at=now,
                     **{name: terms[name] for name in TERM_FIELDS})
            if not updated:
                raise Conflict(ErrorCode.PAYSLIP_ALREADY_PAID,
                               f"Payslip {payslip.payslip_id} was paid or changed meanwhile; nothing was paid.")
            if current.accrual_entry_id is None:
                spec = accrual_spec(current, period, plan.codes)
                if spec:
                    specs.append(spec)
                    owners.append(current.pk)
        for pk, entry in zip(owners, journal_entries_post_batch(created_by=actor, entries=specs)):
            Payslip.objects.filter(pk=pk).update(accrual_entry=entry)
        PayrollPeriod.objects.filter(pk=period.pk, status=PeriodStatus.DRAFT).update(
            status=PeriodStatus.PROCESSING, processed_at=now, updated_at=now)
        fixed = list(Payslip.objects.filter(pk__in=[p.pk for p, _ in plan.plans]).order_by("payslip_id"))
        for payslip in fixed:
            progress_publish(payslip, Stage.QUEUED)
        return fixed

    return in_transaction(work)


# --- sending ---------------------------------------------------------------------------------------------
def _payout(payslip: Payslip) -> OutgoingTransfer:
    return transfers.payout_send(organization_id=payslip.organization_id, wallet=payslip.payout_wallet,
                                 to=payslip.wallet_address, amount=Decimal(payslip.payout_amount),
                                 asset=payslip.payout_asset, intent_key=payslip.payout_intent_key,
                                 requested_by=payslip.paid_by)


def payout_row_label(payslip: Payslip, transfer: OutgoingTransfer) -> None:
    """The transfer's transaction row is this payslip's salary: labelled "salary" on the payer's
    authority (a person's label: the classifier never relabels it) and given the ledger's "salary"
    form, which the ledger's salary rule books against Payroll liabilities (a spend for the cost
    basis and the tax report). Idempotent."""
    if transfer.transaction_id is None:
        return
    row = Transaction.objects.filter(pk=transfer.transaction_id).first()
    if row is None or row.tax_category == PAYMENT_LABEL:
        return
    try:  # the label (sets the "payment" form; may need the day's price to value the row)
        row = transaction_update(actor=payslip.paid_by, transaction=row, label=TransactionLabel.SALARY,
                                 category=TransactionCategory.BUSINESS)
    except DomainError as exc:
        logger.warning("payslip %s: the payout's row keeps its label (%s)", payslip.payslip_id, exc.message)
    transaction_update(actor=payslip.paid_by, transaction=row, tax_category=PAYMENT_LABEL,
                       business_purpose=f"payroll {payslip.payslip_id}"[:200],
                       description=f"Salary {payslip.payslip_id} ({payslip.employee_name})")


def payout_send_one(payslip: Payslip) -> Payslip:
    """Send (or send again: the same stored bytes) one processing payslip's payout and link it."""
    try:
        transfer = _payout(payslip)
    except Unavailable:
        raise
    except DomainError as first:
        try:  # a refused broadcast is stored FAILED under the key: the repeat returns it
            transfer = _payout(payslip)
        except Unavailable:
            raise
        except DomainError:
            payout_fail(payslip, first.message, details=first.details)
            return payslip
    Payslip.objects.filter(pk=payslip.pk, payout_transfer__isnull=True).update(
        payout_transfer=transfer, payment_transaction_hash=transfer.tx_hash, updated_at=timezone.now())
    payslip.payout_transfer, payslip.payment_transaction_hash = transfer, transfer.tx_hash
    if transfer.status == TransferStatus.FAILED:
        payout_fail(payslip, transfer.error or "The node refused the transaction.")
        return payslip
    payout_row_label(payslip, transfer)
    progress_publish(payslip, Stage.INTENT, transfer)  # stored with its nonce and signed bytes
    if transfer.status != TransferStatus.PREPARED:
        progress_publish(payslip, Stage.SENT, transfer)  # the node has it
    return payslip


def crypto_payouts_send(*, payslips=None, organization_id=None) -> int:
    """Send every processing crypto payslip (of `payslips`, else of the organization, else all) whose
    transfer is not yet linked or not yet accepted by the node, in payslip order. Returns how many."""
    queryset = Payslip.objects.filter(payment_method=PaymentMethod.CRYPTO, payment_status=PaymentStatus.PROCESSING)
    if payslips is not None:
        queryset = queryset.filter(pk__in=[p.pk for p in payslips])
    if organization_id is not None:
        queryset = queryset.filter(organization_id=organization_id)
    queryset = queryset.filter(Q(payout_transfer__isnull=True) | Q(payout_transfer__status=TransferStatus.PREPARED))
    sent = 0
    for payslip in queryset.select_related("payout_wallet", "paid_by").order_by("organization_id", "payslip_id"):
        payout_send_one(payslip)
        sent += 1
    return sent


# --- settling --------------------------------------------------------------------------------------------
def payout_fail(payslip: Payslip, reason: str, details: dict | None = None) -> bool:
    now = timezone.now()
    failed = Payslip.objects.filter(pk=payslip.pk, payment_status=PaymentStatus.PROCESSING).update(
        payment_status=PaymentStatus.FAILED, payout_error=reason[:2000], updated_at=now)
    if failed:
        logger.warning("payslip %s payout failed: %s %s", payslip.payslip_id, reason, details or "")
        progress_publish(payslip, Stage.FAILED, payslip.payout_transfer, error=reason)
    return bool(failed)


def _settled_by_the_ledger(payslip: Payslip, transfer: OutgoingTransfer) -> Decimal | None:
    """The amount of net pay the ledger's automatic journal of this transfer settles: its salary rule
    debits Payroll liabilities with the row's fair value as the ledger reads it (ledger.tax_trades:
    the row's value, else the stored price of its day), at the books' precision. None when the row is
    not confirmed yet or cannot be valued (the ledger then books it later, or reports a problem)."""
    if transfer.transaction_id is None:
        return None
    organization = Organization.objects.get(pk=payslip.organization_id)
    rows = Transaction.objects.for_organization(organization.pk).filter(pk=transfer.transaction_id)
    for trade in tax_trades_for(organization, transactions=rows, skip_bad=True).trades:
        if trade.sent_asset.upper() == (payslip.payout_asset or "").upper() and trade.net_worth is not None:
            return trade.net_worth.quantize(Decimal(1).scaleb(-FIAT_DECIMALS), context=EXACT)
    return None


def _payment_spec(payslip: Payslip, transfer: OutgoingTransfer, codes: dict, moment) -> dict | None:
    """What the ledger's salary rule cannot know, so the net pay owed ends settled exactly: the fee
    charged to the employee (Dr Payroll liabilities / Cr Gas fees) and the exchange difference between
    the net pay (processing rate) and the fair value the ledger settles (Realised exchange gains or
    losses). None when both are zero."""
    net = Decimal(payslip.net_salary)
    fee = Decimal(payslip.gas_fee_charged_fiat or 0)
    settled = _settled_by_the_ledger(payslip, transfer)
    difference = (net - fee - settled) if settled is not None else Decimal(0)
    if settled is None:
        logger.warning("payslip %s: the payout's row is not valued yet; no exchange difference posted",
                       payslip.payslip_id)
    lines = []
    if fee:
        lines += [{"account_code": codes["payroll_liabilities"], "debit_amount": fee,
                   "description": f"Network fee charged to the employee ({Decimal(payslip.gas_fee_charged).normalize():f} "
                                  f"{payslip.payout_asset})"},
                  {"account_code": codes["gas_fees"], "credit_amount": fee,
                   "description": "The employee's share of the gas (the company keeps actual - charged)"}]
    if difference > 0:
        lines += [{"account_code": codes["payroll_liabilities"], "debit_amount": difference,
                   "description": "Net pay owed beyond the coins' fair value of the day"},
                  {"account_code": codes["fx_gains"], "credit_amount": difference,
                   "description": "Exchange difference: processing rate against the day's price"}]
    elif difference < 0:
        lines += [{"account_code": codes["fx_losses"], "debit_amount": -difference,
                   "description": "Exchange difference: processing rate against the day's price"},
                  {"account_code": codes["payroll_liabilities"], "credit_amount": -difference,
                   "description": "The coins' fair value of the day beyond the net pay owed"}]
    if not lines:
        return None
    paid = f"{Decimal(payslip.payout_amount).normalize():f} {payslip.payout_asset}"
    return {
        "date": moment, "currency": payslip.currency, "source_key": f"payroll:{payslip.pk}:payment",
        "description": f"Salary paid in crypto: {payslip.payslip_id}, {paid} at {payslip.payout_rate} "
                       f"{payslip.currency} ({payslip.payout_rate_source}); the transfer itself is booked by "
                       f"the ledger's salary rule"[:1000],
        "reference": payslip.payslip_id, "transaction_hash": transfer.tx_hash, "line_items": lines,
    }


def payout_mark_paid(payslip: Payslip, transfer: OutgoingTransfer) -> bool:
    """A confirmed transfer: the payslip is paid, with its entry, once (conditional update)."""
    payout_row_label(payslip, transfer)
    codes = accounts_of(payslip.organization_id)
    period = PayrollPeriod.objects.get(pk=payslip.period_id)
    journal_counters_ensure(payslip.organization_id)

    moment = timezone.now()
    spec = _payment_spec(payslip, transfer, codes, moment)  # reads the ledger's view of the row: outside the transaction

    def work():
        now = moment
        if not Payslip.objects.filter(pk=payslip.pk, payment_status=PaymentStatus.PROCESSING).exists():
            return False
        entry = journal_entries_post_batch(created_by=payslip.paid_by, entries=[spec])[0] if spec else None
        updated = Payslip.objects.filter(pk=payslip.pk, payment_status=PaymentStatus.PROCESSING).update(
            payment_status=PaymentStatus.PAID, payment_date=now, payment_entry=entry, gas_fee=transfer.fee,
            payment_transaction_hash=transfer.tx_hash, payment_reference=transfer.tx_hash, updated_at=now)
        if not updated:
            raise Conflict(ErrorCode.PAYSLIP_ALREADY_PAID, "The payslip was paid meanwhile.")
        period_status_refresh(period, now)
        fresh = Payslip.objects.get(pk=payslip.pk)
        run_after_commit(lambda: announce_paid(fresh), robust=True)
        progress_publish(fresh, Stage.CONFIRMED, transfer)
        return True

    return in_transaction(work)


def period_status_refresh(period: PayrollPeriod, now) -> None:
    """Inside a transaction: the period is PAID once none of its (not cancelled) payslips is unpaid."""
    unpaid = Payslip.objects.filter(period_id=period.pk).exclude(approval_status=ApprovalStatus.CANCELLED).exclude(
        payment_status=PaymentStatus.PAID).exists()
    if not unpaid:
        PayrollPeriod.objects.filter(pk=period.pk).exclude(status=PeriodStatus.PAID).update(
            status=PeriodStatus.PAID, paid_at=now, updated_at=now)


def crypto_payouts_settle(*, organization_id=None) -> dict:
    """Processing crypto payslips whose transfer the chain has settled: CONFIRMED -> paid, FAILED
    (reverted, or its nonce went to another transaction) -> failed. Idempotent."""
    queryset = Payslip.objects.filter(payment_method=PaymentMethod.CRYPTO, payment_status=PaymentStatus.PROCESSING,
                                      payout_transfer__isnull=False)
    if organization_id is not None:
        queryset = queryset.filter(organization_id=organization_id)
    report = {"paid": 0, "failed": 0, "open": 0}
    for payslip in queryset.select_related("payout_transfer", "paid_by", "employee").order_by("payslip_id"):
        transfer = payslip.payout_transfer
        if transfer.status == TransferStatus.CONFIRMED:
            report["paid"] += payout_mark_paid(payslip, transfer)
        elif transfer.status == TransferStatus.FAILED:
            report["failed"] += payout_fail(payslip, transfer.error or "The transfer reverted.")
        else:
            report["open"] += 1
    return report


def payroll_payouts_reconcile(*, organization_id=None) -> dict:
    """The periodic task's pass (and the start of a restarted worker): send what a crash left unsent,
    then settle what the chain has settled."""
    report = {"sent": 0}
    try:
        report["sent"] = crypto_payouts_send(organization_id=organization_id)
    except Unavailable as exc:
        report["error"] = exc.message
    report.update(crypto_payouts_settle(organization_id=organization_id))
    return report


_settling = threading.local()


def on_transactions_changed(sender, user_id=None, organization_id=None, after_commit=True, **kwargs):
    """wallets.signals.transactions_changed (sent when a send settles): settle that organization's
    processing payslips once the change is committed. Cheap when it has none; never raises into the
    sender; not re-entered by the announcements its own settling makes."""
    def run():
        if getattr(_settling, "active", False) or not organization_id:
            return
        _settling.active = True
        try:
            if Payslip.objects.filter(organization_id=organization_id, payment_method=PaymentMethod.CRYPTO,
                                      payment_status=PaymentStatus.PROCESSING, payout_transfer__isnull=False).exists():
                crypto_payouts_settle(organization_id=organization_id)
        except Exception:  # the periodic task catches up
            logger.exception("settling payroll payouts of %s failed", organization_id)
        finally:
            _settling.active = False

    run_after_commit(run)
