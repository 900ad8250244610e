"""The classifier's pure engine (no Django): features, certain rules, the learner, the LLM prompt and
the strict reading of its answer."""

import datetime as dt
import subprocess
import sys
from decimal import Decimal as D

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_audit.classification.engine import MIN_LABELS, Layer, Learner, TxFacts, classify, features
from ai_audit.classification.engine.facts import magnitude, words
from ai_audit.classification.engine.llm import build_prompt, parse_answer, prompt_facts
from ai_audit.classification.engine.rules import SIGNATURES
from ai_audit.contracts.standard_abis import ERC20

LABELS = ("buy", "sell", "swap", "income", "payment", "salary", "fee", "own transfer", "invoice payment", "gift")
CATEGORIES = ("business", "personal", "trading")
WHEN = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
ROUTER = "0x7a250d5630b4cf539739df2c5dacb4c659f2488d"


def facts(**kw):
    base = dict(direction="out", asset="USDC", amount=D(120), when=WHEN, counterparty="0x" + "ab" * 20)
    return TxFacts(**{**base, **kw})


def test_the_engine_imports_no_django():
    code = ("import sys, ai_audit.classification.engine as e, ai_audit.classification.engine.llm; "
            "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_selector_is_the_keccak_of_its_signature():
    for selector, (signature, _) in SIGNATURES.items():
        assert "0x" + keccak(text=signature)[:4].hex() == selector, signature


def test_certain_rules_say_what_they_saw():
    own = classify(facts(counterparty_is_own=True))
    assert (own.label, own.category, own.confidence, own.layer) == ("own transfer", "business", D(1), Layer.RULE)
    assert "own wallet" in own.reason
    assert classify(facts(amount=D(0), fee=D("0.002"))).label == "fee"
    assert classify(facts(amount=D(0), fee=D("0.001"), method_selector="0x095ea7b3")).reason.startswith("an ERC-20 approve")
    swap = classify(facts(method_selector="0x38ED1739", called_contract=ROUTER))
    assert (swap.label, swap.category) == ("swap", "trading")
    assert "swapExactTokensForTokens on the Uniswap V2 router" in swap.reason
    to_router = classify(facts(counterparty=ROUTER, method_selector="0xa9059cbb"))
    assert to_router.label == "swap" and to_router.reason == "ERC-20 Transfer to a known DEX router (Uniswap V2 router)"
    assert classify(facts(matched_by="invoice", direction="in")).label == "invoice payment"
    assert classify(facts(matched_by="payroll")).label == "salary"
    # a plain ERC-20 transfer to an unknown address is not certain
    assert classify(facts(method_selector="0xa9059cbb")).layer == Layer.NONE


def test_below_the_minimum_history_it_says_so():
    learner = Learner(LABELS, CATEGORIES)
    learner.learn([(facts(), "payment", "business")] * (MIN_LABELS - 1))
    answer = classify(facts(), learner)
    assert answer.empty and answer.reason == f"not enough history ({MIN_LABELS - 1} labelled transactions)"
    assert classify(facts()).reason == "not enough history (0 labelled transactions)"


def test_it_learns_a_counterparty_and_says_why():
    learner = Learner(LABELS, CATEGORIES)
    vendor, client = "0x" + "01" * 20, "0x" + "02" * 20
    history = [(facts(counterparty=vendor, amount=D(100 + i)), "payment", "business") for i in range(14)]
    history += [(facts(counterparty=client, direction="in", asset="ETH", amount=D(2)), "income", "business")
                for _ in range(5)]
    assert learner.learn(history) == 19
    paid = classify(facts(counterparty=vendor, amount=D(130)), learner)
    assert (paid.label, paid.category, paid.layer) == ("payment", "business", Layer.MODEL)
    assert paid.reason == "same counterparty as 14 transactions you labelled payment"
    assert paid.confidence > D("0.85")
    got = classify(facts(counterparty=client, direction="in", asset="ETH", amount=D(3)), learner)
    assert got.label == "income"
    # teaching: the client's next transfers are salaries now
    learner.learn([(facts(counterparty=client, direction="in", asset="ETH", amount=D(2)), "salary", "personal")] * 8)
    again = classify(facts(counterparty=client, direction="in", asset="ETH", amount=D(3)), learner)
    assert again.label == "salary" and again.category == "personal"


def test_a_new_counterparty_is_less_certain_than_a_known_one():
    learner = Learner(LABELS, CATEGORIES)
    vendor = "0x" + "03" * 20
    learner.learn([(facts(counterparty=vendor), "payment", "business")] * 6)
    known = classify(facts(counterparty=vendor), learner)
    unknown = classify(facts(counterparty="0x" + "04" * 20), learner)
    assert unknown.confidence < known.confidence
    assert unknown.reason.startswith("new counterparty")


def test_labels_outside_the_vocabulary_are_not_learnt():
    learner = Learner(LABELS, CATEGORIES)
    assert learner.learn([(facts(), "bribe", "business"), (facts(), "payment", "holiday")]) == 0
    assert learner.labels_seen == 0


def test_a_stored_learner_round_trips():
    learner = Learner(LABELS, CATEGORIES)
    learner.learn([(facts(), "payment", "business")] * 4)
    data = learner.dumps()
    assert len(data) < 200_000
    back = Learner.loads(data)
    assert classify(facts(), back) == classify(facts(), learner)


def test_features_leave_out_what_an_override_changes_and_read_what_arrives():
    tokens = features(facts(description="Hosting for March 0xdeadbeef", method_selector="0xa9059cbb"))
    assert "word=hosting" in tokens and "word=march" in tokens and "selector=0xa9059cbb" in tokens
    assert not any("deadbeef" in t for t in tokens)
    assert "month_part=start" in tokens and "weekday=0" in tokens
    assert magnitude(D("0.05")) == "e-2" and magnitude(D(0)) == "zero" and magnitude(None) == "none"
    assert len(words("word " * 100)) == 20


amounts = st.decimals(min_value=0, max_value=10 ** 12, places=8, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(direction=st.sampled_from(["in", "out", ""]), amount=amounts, fee=amounts,
       cp=st.sampled_from(["", "0x" + "05" * 20, ROUTER]), own=st.booleans(),
       selector=st.sampled_from(["", "0xa9059cbb", "0x095ea7b3", "0x38ed1739", "0x12345678"]),
       text=st.text(max_size=300), label=st.sampled_from(LABELS))
def test_any_transaction_gets_a_bounded_answer_in_the_vocabulary(direction, amount, fee, cp, own, selector, text, label):
    learner = Learner(LABELS, CATEGORIES)
    sample = TxFacts(direction, "ETH", amount, WHEN, fee=fee, counterparty=cp, counterparty_is_own=own,
                     method_selector=selector, description=text)
    learner.learn([(sample, label, "business")] * MIN_LABELS)
    answer = classify(sample, learner)
    assert D(0) <= answer.confidence <= D(1)
    assert answer.label in LABELS and answer.category in CATEGORIES
    assert answer.reason


def test_the_prompt_holds_no_address_and_rounds_amounts():
    sample = facts(counterparty="0x" + "ab" * 20, amount=D("1234.5678"), fiat_value=D("98765.4321"),
                   description="Paid 0x" + "cd" * 20 + " for servers", method_selector="0xa9059cbb")
    system, user = build_prompt(sample, LABELS, CATEGORIES)
    assert "ab" * 20 not in user and "cd" * 20 not in user
    shown = prompt_facts(sample)
    assert shown["amount"] == "1.2e+03" and shown["fiat_value"] == "9.9e+04"
    assert shown["method"] == "transfer" and shown["counterparty"] == "an external address"
    assert "payment" in user and "JSON" in system


@pytest.mark.parametrize("answer", [
    {"label": "bribe", "category": "business", "confidence": 0.9},
    {"label": "payment", "category": "holiday", "confidence": 0.9},
    {"label": "payment", "category": "business", "confidence": 1.5},
    {"label": "payment", "category": "business", "confidence": "high"},
    {"label": "payment", "category": "business", "confidence": True},
    {"label": "payment", "category": "business"},
    {"label": ["payment"], "category": "business", "confidence": 0.5},
    "payment",
])
def test_an_answer_outside_the_vocabulary_is_discarded(answer):
    assert parse_answer(answer, LABELS, CATEGORIES) is None


def test_a_good_answer_is_read():
    got = parse_answer({"label": " Payment", "category": "business", "confidence": "0.72", "reason": "a vendor"},
                       LABELS, CATEGORIES)
    assert (got.label, got.category, got.confidence, got.layer) == ("payment", "business", D("0.72"), Layer.LLM)
    assert got.reason == "language model: a vendor"


def test_the_erc20_selectors_agree_with_the_contract_registrys_standard_abi():
    for entry in ERC20:
        if entry["type"] == "function" and entry["name"] in ("transfer", "approve", "transferFrom"):
            signature = f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"
            selector = "0x" + keccak(text=signature)[:4].hex()
            assert SIGNATURES[selector][0] == signature
