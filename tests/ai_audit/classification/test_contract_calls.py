"""Calls to the organization's registered contracts, in the pure engine (no Django): decoding a call
from the contract's ABI, the function-name rules with their reasons, the learner winning only when
surer, and (hypothesis) that no selector or call data makes it raise."""

import datetime as dt
from decimal import Decimal as D

from eth_abi import encode
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_audit.classification.engine import Layer, Learner, TxFacts, classify
from ai_audit.classification.engine.calls import abi_functions_by_selector, call_decode, selector_of
from ai_audit.classification.engine.rules import FUNCTION_RULES, RULE_LABELS
from ai_audit.contracts.abi_args import signature

LABELS = ("buy", "sell", "swap", "income", "staking reward", "airdrop", "payment", "fee", "own transfer", "gift")
CATEGORIES = ("business", "personal", "trading")
WHEN = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
POOL = "0x" + "5a" * 20


def fn(name, inputs=(), mutability="nonpayable"):
    return {"type": "function", "name": name, "stateMutability": mutability,
            "inputs": [{"name": n, "type": t} for t, n in inputs], "outputs": []}


POOL_ABI = [
    fn("stake", [("uint256", "amount")], "payable"), fn("withdraw", [("uint256", "amount")]), fn("getReward"),
    fn("claim", [("uint256", "index"), ("address", "account"), ("bytes32[]", "proof")]),
    fn("swapExactIn", [("address", "tokenIn"), ("uint256", "amountIn")]), fn("transfer", [("address", "to"), ("uint256", "value")]),
    fn("approve", [("address", "spender"), ("uint256", "value")]), fn("mint", [("uint256", "count")], "payable"),
    fn("poke"), fn("configure", [("tuple", "settings")]),
    {"type": "event", "name": "Staked", "inputs": [{"name": "who", "type": "address", "indexed": True}]},
]
POOL_ABI[-2]["inputs"][0]["components"] = [{"name": "rate", "type": "uint16"}, {"name": "open", "type": "bool"},
                                           {"name": "admins", "type": "address[]"}]
HOLDER = "0x" + "ab" * 20


def data(signature, types=(), values=()):
    return selector_of(signature) + encode(list(types), list(values)).hex()


def call(signature, types=(), values=(), abi=POOL_ABI):
    return call_decode(abi, data=data(signature, types, values))


def facts(**kw):
    base = dict(direction="out", asset="ETH", amount=D("1.5"), when=WHEN, counterparty=POOL, fee=D("0.001"),
                called_contract=POOL, contract_name="StakingPool")
    return TxFacts(**{**base, **kw})


def test_a_call_is_decoded_from_the_abi_with_its_arguments():
    stake = call("stake(uint256)", ["uint256"], [10**18])
    assert (stake.name, stake.signature, stake.selector) == ("stake", "stake(uint256)", "0xa694fc3a")
    assert stake.arguments == (("amount", "uint256", "1000000000000000000"),)
    assert stake.arguments_text() == "amount=1000000000000000000"
    claim = call("claim(uint256,address,bytes32[])", ["uint256", "address", "bytes32[]"], [7, HOLDER, [b"\x01" * 32]])
    assert claim.arguments[1][:2] == ("account", "address") and claim.arguments[1][2].lower() == HOLDER
    assert claim.arguments[2] == ("proof", "bytes32[]", ["0x" + "01" * 32])
    configure = call("configure((uint16,bool,address[]))", ["(uint16,bool,address[])"], [(5, True, [HOLDER])])
    assert configure.signature == "configure((uint16,bool,address[]))"
    assert configure.arguments[0][2]["rate"] == "5" and configure.arguments[0][2]["open"] is True
    assert call("poke()").arguments == () and call("poke()").arguments_text() == ""


def test_by_selector_alone_the_function_is_named_without_arguments():
    known = call_decode(POOL_ABI, selector="0xA694FC3A")
    assert (known.name, known.signature, known.arguments) == ("stake", "stake(uint256)", ())
    assert call_decode(POOL_ABI, selector="0xdeadbeef") is None
    assert call_decode(POOL_ABI, data="0xdeadbeef0000") is None
    truncated = call_decode(POOL_ABI, data=data("stake(uint256)", ["uint256"], [5])[:20])  # arguments cut short
    assert truncated.name == "stake" and truncated.arguments == ()
    functions = abi_functions_by_selector(POOL_ABI)
    assert call_decode(None, selector="0xa694fc3a", functions=functions).name == "stake"
    assert len(functions) == 10  # the event is not a function
    assert abi_functions_by_selector("not an abi") == {} and abi_functions_by_selector([{"type": "function"}, 3]) == {}


def test_function_names_give_a_likely_label_and_name_the_contract():
    stake = classify(facts(call=call("stake(uint256)", ["uint256"], [1500])))
    assert (stake.label, stake.category, stake.confidence, stake.layer) == ("own transfer", "business", D("0.85"),
                                                                            Layer.RULE)
    assert stake.reason == ("calls `stake(uint256)` (amount=1500) on StakingPool, a contract you registered: "
                            "a staking deposit: the units stay yours")
    cases = [
        (facts(call=call("withdraw(uint256)", ["uint256"], [1]), direction="in"), "own transfer", "business"),
        (facts(call=call("getReward()"), direction="in", asset="RWD"), "staking reward", "business"),
        (facts(call=call_decode(POOL_ABI, selector=selector_of("claim(uint256,address,bytes32[])")), direction="in"),
         "staking reward", "business"),
        (facts(call=call_decode(POOL_ABI, selector=selector_of("claim(uint256,address,bytes32[])")), direction="in",
               contract_name="TOKEN MerkleDistributor"), "airdrop", "business"),
        (facts(call=call("swapExactIn(address,uint256)", ["address", "uint256"], [HOLDER, 5])), "swap", "trading"),
        (facts(call=call("transfer(address,uint256)", ["address", "uint256"], [HOLDER, 5]), asset="TOK"),
         "payment", "business"),
        (facts(call=call("mint(uint256)", ["uint256"], [2])), "buy", "trading"),
        (facts(call=call("mint(uint256)", ["uint256"], [2]), direction="in"), "airdrop", "business"),
    ]
    for case, label, category in cases:
        got = classify(case)
        assert (got.label, got.category, got.layer) == (label, category, Layer.RULE), case.call
        assert f"on {case.contract_name}, a contract you registered" in got.reason
        assert D(0) < got.confidence < D(1)
    assert {rule[1] for rule in FUNCTION_RULES} <= set(RULE_LABELS)


def test_fees_and_approvals_name_the_called_function():
    gas = classify(facts(amount=D(0), call=call("poke()")))
    assert (gas.label, gas.confidence) == ("fee", D(1))
    assert gas.reason == "calls `poke()` on StakingPool, a contract you registered; gas only: no value moved"
    approval = classify(facts(amount=D(0), method_selector="0x095ea7b3",
                              call=call("approve(address,uint256)", ["address", "uint256"], [HOLDER, 9])))
    assert approval.label == "fee" and approval.reason.startswith("calls `approve(address,uint256)` (spender=0x")
    assert approval.reason.endswith("value=9) on StakingPool, a contract you registered; an ERC-20 approve: only gas is paid")
    # an approval with a value attached still is only an approval (the function rule)
    assert classify(facts(call=call_decode(POOL_ABI, selector=selector_of("approve(address,uint256)")))).label == "fee"


def test_an_unknown_function_of_a_registered_contract_still_names_the_contract():
    poked = classify(facts(call=call("poke()")))
    assert poked.label == "" and poked.layer == Layer.NONE
    assert poked.reason == ("calls `poke()` on StakingPool, a contract you registered; not enough history "
                            "(0 labelled transactions)")
    outside = classify(facts(method_selector="0xdeadbeef"))
    assert outside.reason.startswith("calls a function (0xdeadbeef) that is not in the ABI of StakingPool, a contract")
    received = classify(facts(direction="in"))
    assert received.reason.startswith("from StakingPool, a contract you registered; not enough history")
    # no registered contract: nothing is named
    plain = classify(facts(contract_name="", call=None))
    assert "registered" not in plain.reason


def test_the_learner_wins_over_a_function_rule_only_when_surer():
    def taught(n):
        learner = Learner(LABELS, CATEGORIES)
        examples = [facts(call=call("stake(uint256)", ["uint256"], [i]), amount=D(i + 1)) for i in range(n)]
        learner.learn((example, "gift", "personal") for example in examples)
        return learner

    stake = facts(call=call("stake(uint256)", ["uint256"], [99]))
    few = classify(stake, taught(3))  # 3 labels behind it: less sure than the rule (0.85)
    assert few.label == "own transfer" and few.layer == Layer.RULE
    many = classify(stake, taught(30))
    assert many.label == "gift" and many.layer == Layer.MODEL and many.confidence > D("0.85")
    assert many.reason.startswith("calls `stake(uint256)` (amount=99) on StakingPool, a contract you registered; "
                                  "same counterparty as 30 transactions you labelled gift")


@settings(max_examples=300, deadline=None)
@given(selector=st.binary(min_size=0, max_size=4), tail=st.binary(max_size=200),
       direction=st.sampled_from(["in", "out", ""]), amount=st.decimals(min_value=0, max_value=10**9, places=6),
       name=st.text(max_size=40))
def test_no_selector_or_call_data_makes_the_engine_raise(selector, tail, direction, amount, name):
    raw = selector + tail
    decoded = call_decode(POOL_ABI, selector="0x" + selector.hex(), data=raw)
    assert decoded is None or decoded.signature in {signature(e) for e in POOL_ABI if e["type"] == "function"}
    got = classify(facts(direction=direction, amount=amount, method_selector="0x" + raw[:4].hex() if raw else "",
                         contract_name=name, call=decoded))
    assert got.label in RULE_LABELS or got.label == ""
    assert D(0) <= got.confidence <= D(1) and isinstance(got.reason, str)

