"""Classification of transactions: the pipeline (every new transaction), the two endpoints' work,
the review queue's decisions, and the per-organization learner.

Layers: 1 certain rules and 2 the organization's learner (the pure engine,
ai_audit.classification.engine), 3 the optional language model (core.llm) for what stays below the
organization's review threshold. A suggestion at or above the threshold is applied automatically
(state APPLIED, still reviewable); below it waits in the review queue (PENDING, or NONE when there
is no suggestion at all). Every label goes through `wallets.services.transactions.transaction_label`
(the row, its ledger form, the journal re-booked); wallets announces it and `on_transaction_labelled`
records who and when here and teaches the learner.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from ai_audit.classification.engine import Learner, Suggestion, TxFacts, classify
from ai_audit.classification.engine.calls import abi_functions_by_selector, call_decode
from ai_audit.classification.engine.llm import build_prompt, parse_answer
from ai_audit.models import ClassifierState, Contract, SuggestionState, TransactionClassification
from ai_audit.models.classification import REVIEW_STATES, TAUGHT_STATES
from core import permissions
from core.errors import ErrorCode, InvalidInput, NotFound
from core.llm import LlmUnavailable, chat_completion, llm_configured, parse_json_object
from wallets import networks
from wallets.models import OutgoingTransfer, Transaction, TransactionSource, Wallet
from wallets.services.transactions import (
    LabelHow,
    TransactionCategory,
    TransactionLabel,
    transaction_incoming,
    transaction_label,
)
from wallets.selectors import transaction_get_for, transaction_queryset_for
from wallets.signals import transaction_purposes

logger = logging.getLogger(__name__)

LABELS = tuple(TransactionLabel.values)
CATEGORIES = tuple(TransactionCategory.values)
PAYROLL_INTENT = ":payslip:"  # wallets.transfers.payout_send keys: "intent:<organization>:payslip:<id>:<attempt>"
MAX_BATCH = 500


def classifier_state_for(organization_id) -> ClassifierState:
    state = ClassifierState.objects.for_organization(organization_id).first()
    if state is None:
        try:
            state = ClassifierState.objects.create(organization_id=organization_id)
        except IntegrityError:  # created meanwhile
            state = ClassifierState.objects.for_organization(organization_id).get()
    return state


# --- facts ------------------------------------------------------------------------------------------------
class _CallReader:
    """What the node has of a transaction: the address it called and its input data. Read once per
    hash in a batch (a transaction recorded as several rows is asked once) on the transaction's
    network; a node that does not answer is not asked again in this batch."""

    def __init__(self):
        self.clients, self.down, self.seen = {}, set(), {}

    def read(self, tx_hash: str, network: str) -> tuple[str, bytes] | None:
        if not tx_hash or network in self.down:
            return None
        if tx_hash in self.seen:
            return self.seen[tx_hash]
        try:
            if network not in self.clients:
                self.clients[network] = networks.web3_for(network)
            found = self.clients[network].eth.get_transaction(tx_hash)
        except Exception as exc:  # noqa: BLE001 (any node failure: classify without it)
            logger.info("call data of %s not read: %s", tx_hash, exc)
            self.down.add(network)
            return None
        self.seen[tx_hash] = ((found.get("to") or "").lower(), bytes(found.get("input") or b""))
        return self.seen[tx_hash]


class _RegisteredContracts:
    """The organization's registered contracts, read in one query per batch: address -> network ->
    (name, the ABI's functions by selector)."""

    def __init__(self, organization_id):
        self.by_address: dict[str, dict[str, tuple[str, dict]]] = {}
        for contract in Contract.objects.for_organization(organization_id).only("address", "network", "name", "abi"):
            self.by_address.setdefault(contract.address.lower(), {})[contract.network] = (
                contract.name, abi_functions_by_selector(contract.abi))

    def get(self, address: str, network: str) -> tuple[str, dict] | None:
        return self.by_address.get((address or "").lower(), {}).get(network)

    def __contains__(self, address: str) -> bool:
        return (address or "").lower() in self.by_address


def _network_of(tx: Transaction) -> str:
    return getattr(tx, "network", "") or networks.default_network_name()


def facts_for(organization_id, transactions: list[Transaction], records: dict | None = None) -> dict[str, TxFacts]:
    """What the engine reads of each transaction (the facts known when it arrived, never its label).

    The call: the app's own sends keep their call data (decoded in full). Other chain transactions
    are read from the node once, when first classified: the outgoing ones (as before) and those
    received from one of the organization's registered contracts (a reward, a claim); only the
    method selector is kept on the classification record, so a later classification names the
    function from the selector without its arguments and without asking the node again."""
    records = records or {}
    own = {a.lower() for a in Wallet.objects.for_organization(organization_id).values_list("address", flat=True)}
    ids = [tx.pk for tx in transactions]
    hashes = [tx.hash for tx in transactions if tx.hash]
    sends = {}
    for transfer in OutgoingTransfer.objects.for_organization(organization_id).filter(tx_hash__in=hashes).only(
            "tx_hash", "transaction", "idempotency_key", "call_data", "to_address"):
        sends[transfer.tx_hash] = transfer
    purposes = transaction_purposes(organization_id, ids)
    contracts = _RegisteredContracts(organization_id)
    reader = _CallReader()
    result = {}
    for tx in transactions:
        incoming = transaction_incoming(tx)
        direction = "in" if incoming else "out"
        counterparty = (tx.from_address if incoming else tx.to_address).lower()
        network = _network_of(tx)
        send = sends.get(tx.hash)
        matched = purposes.get(str(tx.pk), "")
        if not matched and send is not None and PAYROLL_INTENT in send.idempotency_key:
            matched = "payroll"
        record = records.get(tx.pk)
        selector = record.method_selector if record is not None else None
        called, data = "", ""
        if send is not None and send.call_data:
            called, data = send.to_address.lower(), send.call_data
            selector = send.call_data[:10].lower()
        elif selector is None and tx.source == TransactionSource.CHAIN and (not incoming or counterparty in contracts):
            read = reader.read(tx.hash, network)
            if read is not None:
                called, data = read
                selector = "0x" + data[:4].hex() if len(data) >= 4 else ""
                if record is not None:
                    TransactionClassification.objects.filter(pk=record.pk).update(method_selector=selector)
                    record.method_selector = selector
        # The registered contract: the called address when known; else the counterparty (a contract
        # that paid us, or that our wallet paid), else, for a token we sent, the token's contract.
        if called:
            candidates = (called,)
        elif incoming:
            candidates = (counterparty,)
        else:
            candidates = (counterparty, (tx.cryptocurrency.contract_address or "").lower())
        contract, call = None, None
        for candidate in candidates:
            contract = contracts.get(candidate, network) if candidate else None
            if contract is not None:
                called = candidate
                break
        if contract is not None and (selector or data):
            call = call_decode(None, selector or "", data, functions=contract[1])
        result[str(tx.pk)] = TxFacts(
            direction=direction, asset=tx.cryptocurrency.symbol, amount=tx.amount, when=tx.transaction_date,
            fiat_value=tx.usd_value, fee=tx.fee or 0, counterparty=counterparty,
            counterparty_is_own=bool(counterparty) and counterparty in own and tx.wallet_id is not None,
            method_selector=selector or "", called_contract=called if (call is not None or data or contract) else "",
            description=tx.description, source=tx.source, matched_by=matched,
            contract_name=contract[0] if contract is not None else "", call=call)
    return result


# --- the learner ------------------------------------------------------------------------------------------
def _taught(organization_id) -> list[TransactionClassification]:
    return list(TransactionClassification.objects.for_organization(organization_id).filter(
        state__in=TAUGHT_STATES).exclude(label="").prefetch_related("transaction__cryptocurrency",
                                                                     "transaction__wallet").order_by("labelled_at"))


def learner_get(organization_id, state: ClassifierState | None = None) -> Learner | None:
    state = state or classifier_state_for(organization_id)
    if not state.learner:
        return None
    return Learner.loads(bytes(state.learner))


def learner_train(organization_id, records: list[TransactionClassification] | None = None) -> ClassifierState:
    """Teach the organization's learner: the given newly taught records incrementally (partial_fit),
    or everything from the start when `records` is None, the learner is stale (a label was changed)
    or missing. One organization's training at a time."""
    with HUEY.lock_task(f"ai-classifier-{organization_id}"):
        state = classifier_state_for(organization_id)
        learner = None if state.stale or records is None else learner_get(organization_id, state)
        if learner is None:
            learner, records = Learner(LABELS, CATEGORIES), _taught(organization_id)
        records = [r for r in records if r.label]
        if records:
            facts = facts_for(organization_id, [r.transaction for r in records], {r.transaction_id: r for r in records})
            learner.learn((facts[str(r.transaction_id)], r.label, r.category) for r in records)
        state.learner, state.labels_count, state.trained_at, state.stale = (learner.dumps(), learner.labels_seen,
                                                                            timezone.now(), False)
        ClassifierState.objects.filter(pk=state.pk).update(learner=state.learner, labels_count=state.labels_count,
                                                           trained_at=state.trained_at, stale=False)
        return state


def classifiers_retrain_stale() -> int:
    """The periodic refit: every organization whose labels changed since its last training."""
    done = 0
    for organization_id in ClassifierState.objects.filter(stale=True).values_list("organization_id", flat=True):
        learner_train(organization_id)
        done += 1
    return done


# --- classifying ------------------------------------------------------------------------------------------
@dataclass
class Classified:
    transaction: Transaction
    suggestion: Suggestion
    record: TransactionClassification
    applied: bool = False
    note: str = ""


def _llm_suggestion(facts: TxFacts) -> Suggestion | None:
    system, user = build_prompt(facts, LABELS, CATEGORIES)
    answer = chat_completion(system=system, user=user, max_tokens=200, json_answer=True)
    return parse_answer(parse_json_object(answer.text), LABELS, CATEGORIES)


def _records_for(organization_id, transactions) -> dict:
    records = {r.transaction_id: r for r in TransactionClassification.objects.for_organization(organization_id).filter(
        transaction_id__in=[tx.pk for tx in transactions])}
    for tx in transactions:
        if tx.pk not in records:
            try:
                records[tx.pk] = TransactionClassification.objects.create(organization_id=organization_id,
                                                                          transaction=tx)
            except IntegrityError:  # a concurrent pipeline made it
                records[tx.pk] = TransactionClassification.objects.for_organization(organization_id).get(
                    transaction=tx)
    return records


def transactions_classify(*, actor, organization_id, transactions: list[Transaction], apply: bool = False,
                          automatic: bool = False) -> list[Classified]:
    """Suggest a label and category for each transaction and record the suggestions.
    - a person asking (`actor`), `apply` False: suggestions only; the label in force is not touched;
    - a person with `apply`: each non-empty suggestion becomes the label, as accepted by them;
    - `automatic` (the pipeline, actor None): applied when at or above the review threshold, else
      left for review. A transaction a person labelled keeps its label either way."""
    state = classifier_state_for(organization_id)
    learner = learner_get(organization_id, state)
    records = _records_for(organization_id, transactions)
    facts = facts_for(organization_id, transactions, records)
    use_llm = llm_configured()
    now = timezone.now()
    results = []
    for tx in transactions:
        record = records[tx.pk]
        suggestion = classify(facts[str(tx.pk)], learner)
        note = ""
        if use_llm and suggestion.layer != "rule" and suggestion.confidence < state.review_threshold:
            try:
                offered = _llm_suggestion(facts[str(tx.pk)])
            except LlmUnavailable as exc:
                use_llm, note = False, f"language model not used: {exc}"
            else:
                if offered is not None and offered.confidence > suggestion.confidence:
                    suggestion = offered
                elif offered is None:
                    note = "the language model's answer was outside the vocabulary: discarded"
        record.suggested_label, record.suggested_category = suggestion.label, suggestion.category
        record.suggested_confidence = suggestion.confidence if suggestion.label else None
        record.suggested_reason, record.suggested_layer, record.suggested_at = suggestion.reason[:500], suggestion.layer, now
        human = record.state in TAUGHT_STATES
        fields = ["suggested_label", "suggested_category", "suggested_confidence", "suggested_reason",
                  "suggested_layer", "suggested_at", "updated_at"]
        if not human:  # waiting for a person until applied below
            record.state = SuggestionState.PENDING if suggestion.label else SuggestionState.NONE
            fields.append("state")
        record.save(update_fields=fields)
        item = Classified(tx, suggestion, record, note=note)
        sure_enough = suggestion.label and suggestion.confidence >= state.review_threshold
        if suggestion.label and not human and ((apply and actor is not None) or (automatic and sure_enough)):
            try:
                transaction_label(actor=None if automatic else actor, transaction=tx, label=suggestion.label,
                                  category=suggestion.category, how=LabelHow.APPLIED if automatic else LabelHow.ACCEPTED,
                                  confidence=suggestion.confidence, reason=suggestion.reason)
                item.applied = True
                record.refresh_from_db()
                item.record = record
            except InvalidInput as exc:  # e.g. the ledger needs a value this row lacks: a person decides
                item.note = exc.message
        results.append(item)
    return results


def classify_request(*, actor, transaction_ids: list[str] | None = None, queryset=None, apply: bool = False,
                     limit: int = MAX_BATCH) -> list[Classified]:
    """The endpoints' work: the caller's visible transactions named by id (an unknown or another
    organization's id: 404), or those a filter selects (`queryset`, already scoped to the caller)."""
    organization_id = permissions.acting_organization_id(
        actor, permissions.can_work_books if apply else permissions.can_use_backoffice, refused=(
            "Only the organization's accountants and managers apply classifications." if apply
            else "You cannot classify transactions."), system_allowed=False)
    scoped = transaction_queryset_for(actor).prefetch_related("cryptocurrency", "wallet")
    if transaction_ids is not None:
        if len(transaction_ids) > limit:
            raise InvalidInput(ErrorCode.VALIDATION_ERROR, f"At most {limit} transactions at once.",
                               {"fields": {"transaction_ids": f"<= {limit}"}})
        found = {str(tx.pk): tx for tx in scoped.filter(pk__in=transaction_ids)}
        missing = [i for i in transaction_ids if i not in found]
        if missing:
            raise NotFound(ErrorCode.NOT_FOUND, "Not found.", {"transaction_ids": missing})
        transactions = [found[i] for i in dict.fromkeys(transaction_ids)]
    else:
        transactions = list((queryset if queryset is not None else scoped)[:limit])
    if apply:
        for tx in transactions:
            permissions.require(permissions.can_edit_transaction_business_fields(actor, tx),
                                "You cannot edit this transaction.")
    return transactions_classify(actor=actor, organization_id=organization_id, transactions=transactions,
                                 apply=apply)


def _classified_ids(organization_id) -> set:
    # Every record's transaction id of the organization, read whole: an `$in` of the unlabelled ids
    # made the embedded server compare every row with every id (an import of 10k rows: minutes).
    return set(TransactionClassification.objects.for_organization(organization_id)
               .values_list("transaction_id", flat=True))


def pipeline_has_pending(organization_id) -> bool:
    """Whether a transaction of the organization was never classified (two reads of ids only)."""
    unlabelled = set(Transaction.objects.for_organization(organization_id).filter(is_classified=False)
                     .values_list("pk", flat=True))
    return bool(unlabelled) and bool(unlabelled - _classified_ids(organization_id))


def pipeline_pending(organization_id) -> list[Transaction]:
    """The organization's transactions never classified (no record), oldest first."""
    seen = _classified_ids(organization_id)
    rows = (Transaction.objects.for_organization(organization_id).filter(is_classified=False)
            .prefetch_related("cryptocurrency", "wallet"))
    return sorted((tx for tx in rows if tx.pk not in seen), key=lambda tx: (tx.transaction_date, tx.pk))


def pipeline_run(organization_id, *, reporter=None) -> dict:
    """Classify every transaction of the organization that has no classification record yet."""
    pending = pipeline_pending(organization_id)
    totals = {"classified": 0, "applied": 0, "to_review": 0}
    for first in range(0, len(pending), MAX_BATCH):
        batch = pending[first:first + MAX_BATCH]
        for item in transactions_classify(actor=None, organization_id=organization_id, transactions=batch,
                                          automatic=True):
            totals["classified"] += 1
            totals["applied" if item.applied else "to_review"] += 1
        if reporter is not None:
            reporter.progress(min(100, (first + len(batch)) * 100 // max(1, len(pending))),
                              f"{first + len(batch)} of {len(pending)} classified")
    return totals


# --- decisions --------------------------------------------------------------------------------------------
def _record_for(actor, record_id) -> TransactionClassification:
    record = TransactionClassification.objects.for_actor(actor).filter(pk=record_id).first()
    if record is None or transaction_get_for(actor, record.transaction_id) is None:
        raise NotFound(ErrorCode.NOT_FOUND, "Not found.")
    return record


def suggestion_accept(*, actor, record_id) -> TransactionClassification:
    record = _record_for(actor, record_id)
    if not record.suggested_label:
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "There is no suggestion to accept.")
    transaction_label(actor=actor, transaction=record.transaction, label=record.suggested_label,
                      category=record.suggested_category, how=LabelHow.ACCEPTED, reason=record.suggested_reason)
    record.refresh_from_db()
    return record


def suggestion_reject(*, actor, record_id) -> TransactionClassification:
    """The suggestion is wrong; the transaction keeps what it had and leaves the queue (a person
    labels it, which teaches the learner)."""
    record = _record_for(actor, record_id)
    permissions.require(permissions.can_edit_transaction_business_fields(actor, record.transaction),
                        "You cannot edit this transaction.")
    record.state = SuggestionState.REJECTED
    record.save(update_fields=["state", "updated_at"])
    return record


def review_queue_for(actor, state: str = ""):
    """Suggestions waiting for a person (pending, or none at all), newest first; `state` "applied":
    those applied automatically, still reviewable. The organization's accountants and managers."""
    permissions.require(permissions.can_work_books(actor), "Only the organization's accountants and managers "
                        "review classifications.")
    states = (state,) if state in (*REVIEW_STATES, SuggestionState.APPLIED) else REVIEW_STATES
    return TransactionClassification.objects.for_actor(actor).filter(state__in=states).prefetch_related(
        "transaction__cryptocurrency", "transaction__wallet", "labelled_by").order_by("-created_at")


def review_threshold_set(*, actor, threshold, organization_id=None) -> ClassifierState:
    """The organization's review threshold in [0, 1]: its administrators (a platform superuser, in the
    admin, names the organization)."""
    if not (permissions.can_see_all_organizations(actor) and organization_id is not None):
        organization_id = permissions.acting_organization_id(
            actor, permissions.can_manage_organization, organization_id, system_allowed=False,
            refused="Only an administrator changes the review threshold.")
    if threshold is None or not (0 <= threshold <= 1):
        raise InvalidInput(ErrorCode.VALIDATION_ERROR, "The review threshold is a confidence in [0, 1].",
                           {"fields": {"review_threshold": "0..1"}})
    state = classifier_state_for(organization_id)
    ClassifierState.objects.filter(pk=state.pk).update(review_threshold=threshold)
    state.review_threshold = threshold
    return state


# --- wallets.signals.transaction_labelled -------------------------------------------------------------------
def label_record(*, transaction, actor, label, category, how) -> TransactionClassification | None:
    """Record who labelled what and when. Returns the record when a person's label should teach the
    learner (the caller queues `learner_train`), else None."""
    organization_id = transaction.organization_id
    record = _records_for(organization_id, [transaction])[transaction.pk]
    relabel = record.state in TAUGHT_STATES and (record.label, record.category) != (label, category)
    person = actor is not None and not permissions.is_system_actor(actor)
    record.label, record.category = label, category
    record.labelled_by = actor if person else None
    record.labelled_at = timezone.now()
    record.state = {LabelHow.MANUAL: SuggestionState.OVERRIDDEN, LabelHow.ACCEPTED: SuggestionState.ACCEPTED,
                    LabelHow.APPLIED: SuggestionState.APPLIED}[how]
    record.save(update_fields=["label", "category", "labelled_by", "labelled_at", "state", "updated_at"])
    if how == LabelHow.APPLIED:
        return None
    if relabel:  # the learner saw the old label: refit from the start
        ClassifierState.objects.for_organization(organization_id).update(stale=True)
    return record
