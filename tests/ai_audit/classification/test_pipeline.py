"""The pipeline's layers that need the database or the network: the language model (a local server
speaking the chat-completions protocol: good, malformed, slow, down), what the app itself matched or
sent (invoice payments through the purpose hook, payroll payouts by their intent key), the
vocabulary shared with wallets, and the periodic refit."""

from decimal import Decimal

import pytest

from ai_audit.classification import services
from ai_audit.classification.engine.rules import RULE_LABELS
from ai_audit.classification.tasks import classifiers_retrain_periodic
from ai_audit.models import ClassifierState, SuggestionState, TransactionClassification
from tests.ai_audit.classification.conftest import CLIENT
from tests.llm_server import closed_port_url, llm_server
from wallets.models import OutgoingTransfer
from wallets.services.transactions import LEDGER_FORMS, TransactionCategory, TransactionLabel
from wallets.signals import transaction_purpose_resolver_register, transaction_purpose_resolver_unregister

pytestmark = pytest.mark.django_db

GOOD = '{"label": "payment", "category": "business", "confidence": 0.91, "reason": "a supplier"}'


def suggest(books, row):
    [item] = services.classify_request(actor=books.accountant, transaction_ids=[str(row.pk)])
    return item


def test_the_vocabulary_is_one():
    assert set(RULE_LABELS) <= set(TransactionLabel.values)
    assert set(LEDGER_FORMS) == set(TransactionLabel.values)
    assert services.CATEGORIES == tuple(TransactionCategory.values)


def test_a_good_answer_from_the_model_is_used_below_the_threshold(books, settings):
    row = books.chain_row(description="Server hosting March")
    with llm_server(answer=f"Sure! ```json\n{GOOD}\n```") as server:
        settings.LLM_BASE_URL = server.base_url
        item = suggest(books, row)
    assert (item.suggestion.label, item.suggestion.category, item.suggestion.layer) == ("payment", "business", "llm")
    assert item.suggestion.confidence == Decimal("0.91")
    assert item.suggestion.reason == "language model: a supplier"
    [request] = server.requests
    sent = request["body"]["messages"][1]["content"]
    assert books.wallet.address.lower()[2:] not in sent.lower() and row.to_address[2:] not in sent
    assert "server hosting march" in sent and request["body"]["model"] == settings.LLM_MODEL_NAME
    assert TransactionClassification.objects.get(transaction=row).suggested_layer == "llm"


@pytest.mark.parametrize("behaviour", [
    {"answer": '{"label": "bribe", "category": "business", "confidence": 0.99}'},
    {"answer": "I think it is a payment."},
    {"raw": b'{"choices": [}'},
    {"status": 500},
])
def test_a_bad_answer_is_discarded_and_the_offline_result_stays(books, settings, behaviour):
    row = books.chain_row()
    with llm_server(**behaviour) as server:
        settings.LLM_BASE_URL = server.base_url
        item = suggest(books, row)
    assert item.suggestion.layer == "none" and item.suggestion.label == ""
    assert item.note


def test_a_slow_model_times_out_and_a_down_one_is_not_asked_again_in_the_batch(books, settings):
    rows = [books.chain_row() for _ in range(3)]
    settings.LLM_TIMEOUT_SECONDS = 1
    with llm_server(answer=GOOD, delay=3) as server:
        settings.LLM_BASE_URL = server.base_url
        items = services.classify_request(actor=books.accountant, transaction_ids=[str(r.pk) for r in rows])
    assert [i.suggestion.layer for i in items] == ["none"] * 3
    assert "no answer within 1 s" in items[0].note
    assert len(server.requests) == 1
    settings.LLM_BASE_URL = closed_port_url()
    assert suggest(books, rows[0]).note.startswith("language model not used: cannot reach the model")


def test_rules_are_not_sent_to_the_model(books, settings):
    own = books.chain_row(counterparty=books.spare.address, usd_value=None, asset=books.eth, amount="1")
    with llm_server(answer=GOOD) as server:
        settings.LLM_BASE_URL = server.base_url
        assert suggest(books, own).suggestion.label == "own transfer"
    assert server.requests == []


def test_an_invoice_payment_the_app_matched_and_a_payroll_payout_it_sent(books):
    paid = books.chain_row(direction="in", counterparty=CLIENT)

    def invoicing(organization_id, transaction_ids):  # what invoicing registers in its ready()
        return {str(paid.pk): "invoice"} if str(paid.pk) in transaction_ids else {}

    transaction_purpose_resolver_register(invoicing)
    try:
        item = suggest(books, paid)
    finally:
        transaction_purpose_resolver_unregister(invoicing)
    assert (item.suggestion.label, item.suggestion.reason) == ("invoice payment", "matched to an invoice by the app")
    salary = books.chain_row(asset=books.eth, amount="0.5")
    OutgoingTransfer.objects.create(
        organization=books.organization, user=books.manager, wallet=books.wallet, cryptocurrency=books.eth,
        to_address=salary.to_address, amount=Decimal("0.5"),
        idempotency_key=f"intent:{books.organization.pk}:payslip:abc:1", request_fingerprint="x", chain_id=31337,
        nonce=1, gas_limit=21000, max_fee_per_gas=1, max_priority_fee_per_gas=1, signed_raw_transaction="0x",
        tx_hash=salary.hash, status="CONFIRMED", transaction=salary)
    assert suggest(books, salary).suggestion.label == "salary"


def test_a_relabel_marks_the_learner_stale_and_the_periodic_task_refits_it(books):
    rows = [books.chain_row(direction="in", counterparty=CLIENT) for _ in range(4)]
    for row in rows[:3]:
        books.call("accountant", "put", f"/api/transactions/{row.pk}/", {"label": "income", "category": "business"})
    books.call("accountant", "put", f"/api/transactions/{rows[0].pk}/", {"label": "gift", "category": "personal"})
    state = ClassifierState.objects.get(organization=books.organization)
    assert state.labels_count == 3  # refit from the start: each transaction counted once
    ClassifierState.objects.filter(pk=state.pk).update(stale=True)
    assert classifiers_retrain_periodic.call_local() == {"retrained": 1}
    state.refresh_from_db()
    assert state.stale is False and state.labels_count == 3
    assert TransactionClassification.objects.get(transaction=rows[0]).state == SuggestionState.OVERRIDDEN
