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
   Paying posts, in the same transaction as the status change (source key `payroll:<id>:payment`,
   so once): Dr Payroll liabilities (net pay) / Cr General expenses (net pay). The automatic journal
   of the transfer books the coins leaving (Dr General expenses at the fair value of the day / Cr
   the crypto asset at cost, the realised gain or loss, the gas to Gas fees): together the liability
   is settled in crypto, the crypto leaves at cost, and General expenses keeps only the difference
   between the day's stored price and the processing rate.
A FAILED payslip is paid again only by an explicit `payslip_payment_process` (a new attempt, a new
intent key, a new rate). Gas is borne by the company (the employee receives the full net pay); an
organization set to "employee" is refused (gas_bearer_unsupported) until that rule is built.
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

from accounts.sessions import require_approved_session
from core import permissions
from core.errors import Conflict, DomainError, ErrorCode, InvalidInput, NotFound, Unavailable
from core.models import Organization
from core.realtime import Audience, organization_group, publish
from core.transactions import after_commit as run_after_commit, in_transaction
from ledger.services import journal_entries_post_batch
from payroll import engine
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
from wallets import chain, transfers
from wallets.erc20 import erc20_contract
from wallets.models import Cryptocurrency, OutgoingTransfer, PriceQuote, Transaction, TransferStatus, Wallet
from wallets.prices import price_current
from wallets.services import transaction_update

logger = logging.getLogger(__name__)

DEFAULT_ASSET = "ETH"
TOKEN_GAS_RESERVE = 100_000  # gas a token transfer may take, reserved per send by the funding check
PAYMENT_LABEL = "payment"  # the row's tax category: a disposal (spend) for the cost basis
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
    return {"token": token, "payout_asset": symbol, "payout_amount": amount, "payout_rate": rate,
            "payout_rate_source": source[:50]}


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
    if payroll_settings_get(organization.pk).gas_fee_bearer != GasFeeBearer.COMPANY:
        raise Conflict(ErrorCode.GAS_BEARER_UNSUPPORTED,
                       "Crypto payouts with the gas borne by the employee are not available: set the gas fee "
                       "bearer to the company (the employee then receives the full net pay).")
    wallet = payout_wallet_resolve(actor=actor, organization_id=organization.pk, wallet_id=wallet_id)
    plans = [(payslip, _terms(payslip, organization)) for payslip in payslips]
    _funding_check(wallet, plans)
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
            ).update(payment_status=PaymentStatus.PROCESSING, payout_wallet=wallet, payout_asset=terms["payout_asset"],
                     payout_amount=terms["payout_amount"], payout_rate=terms["payout_rate"],
                     payout_rate_source=terms["payout_rate_source"], payout_intent_key=f"payslip:{payslip.pk}:{attempt}",
                     payout_attempts=attempt, payout_transfer=None, payout_error="", paid_by=actor, updated_at=now)
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
    """The transfer's transaction row is a payment (a disposal at cost for the books and the tax
    report), described as this payslip's salary. Idempotent."""
    if transfer.transaction_id is None:
        return
    row = Transaction.objects.filter(pk=transfer.transaction_id).first()
    if row is None or row.tax_category == PAYMENT_LABEL:
        return
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


def _payment_spec(payslip: Payslip, transfer: OutgoingTransfer, codes: dict, moment) -> dict | None:
    net = Decimal(payslip.net_salary)
    if net == 0:
        return None
    paid = f"{Decimal(payslip.payout_amount).normalize():f} {payslip.payout_asset}"
    return {
        "date": moment, "currency": payslip.currency, "source_key": f"payroll:{payslip.pk}:payment",
        "description": f"Salary paid in crypto: {payslip.payslip_id}, {paid} at {payslip.payout_rate} "
                       f"{payslip.currency} ({payslip.payout_rate_source})"[:1000],
        "reference": payslip.payslip_id, "transaction_hash": transfer.tx_hash,
        "line_items": [
            {"account_code": codes["payroll_liabilities"], "debit_amount": net, "description": "Net pay"},
            {"account_code": codes["general_expenses"], "credit_amount": net,
             "description": "The payment's expense in the transfer's automatic journal settles the net pay owed"}],
    }


def payout_mark_paid(payslip: Payslip, transfer: OutgoingTransfer) -> bool:
    """A confirmed transfer: the payslip is paid, with its entry, once (conditional update)."""
    payout_row_label(payslip, transfer)
    codes = accounts_of(payslip.organization_id)
    period = PayrollPeriod.objects.get(pk=payslip.period_id)
    journal_counters_ensure(payslip.organization_id)

    def work():
        now = timezone.now()
        if not Payslip.objects.filter(pk=payslip.pk, payment_status=PaymentStatus.PROCESSING).exists():
            return False
        spec = _payment_spec(payslip, transfer, codes, now)
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
