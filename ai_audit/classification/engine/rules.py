"""Layer 1: rules that are certain. Each names what it saw, in words.

Method selectors are the first 4 bytes of keccak-256 of the function's signature (the tests
recompute every one from `SIGNATURES`); the DEX routers are the well-known mainnet deployments."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

from ai_audit.classification.engine.facts import TxFacts
from ai_audit.classification.engine.suggestion import Layer, Suggestion

ONE = Decimal(1)

# selector -> (signature, kind)
SIGNATURES: dict[str, tuple[str, str]] = {
    "0xa9059cbb": ("transfer(address,uint256)", "erc20_transfer"),
    "0x23b872dd": ("transferFrom(address,address,uint256)", "erc20_transfer"),
    "0x095ea7b3": ("approve(address,uint256)", "approve"),
    "0x38ed1739": ("swapExactTokensForTokens(uint256,uint256,address[],address,uint256)", "swap"),
    "0x8803dbee": ("swapTokensForExactTokens(uint256,uint256,address[],address,uint256)", "swap"),
    "0x7ff36ab5": ("swapExactETHForTokens(uint256,address[],address,uint256)", "swap"),
    "0xfb3bdb41": ("swapETHForExactTokens(uint256,address[],address,uint256)", "swap"),
    "0x18cbafe5": ("swapExactTokensForETH(uint256,uint256,address[],address,uint256)", "swap"),
    "0x4a25d94a": ("swapTokensForExactETH(uint256,uint256,address[],address,uint256)", "swap"),
    "0x414bf389": ("exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))", "swap"),
    "0xc04b8d59": ("exactInput((bytes,address,uint256,uint256,uint256))", "swap"),
    "0xdb3e2198": ("exactOutputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))", "swap"),
    "0xf28c0498": ("exactOutput((bytes,address,uint256,uint256,uint256))", "swap"),
    "0x3593564c": ("execute(bytes,bytes[],uint256)", "swap"),
    "0x24856bc3": ("execute(bytes,bytes[])", "swap"),
    "0x12aa3caf": ("swap(address,(address,address,address,address,uint256,uint256,uint256),bytes,bytes)", "swap"),
}

DEX_ROUTERS: dict[str, str] = {
    "0x7a250d5630b4cf539739df2c5dacb4c659f2488d": "Uniswap V2 router",
    "0xe592427a0aece92de3edee1f18e0157c05861564": "Uniswap V3 swap router",
    "0x68b3465833fb72a70ecdf485e0e4c7bd8665fc45": "Uniswap swap router 02",
    "0x3fc91a3afd70edd2ad67c8a7e0cb6f4e6dc5e1b7": "Uniswap universal router",
    "0x66a9893cc07d91d95644aedd05d03f95e1dba8af": "Uniswap universal router (v4)",
    "0xd9e1ce17f2641f24ae83637ab66a2cca9c378b9f": "SushiSwap router",
    "0x1111111254eeb25477b68fb85ed929f73a960582": "1inch aggregation router v5",
}

# The labels and categories these rules give (a subset of the wallets vocabulary; a test checks it).
OWN_TRANSFER, FEE, SWAP, INVOICE_PAYMENT, SALARY = "own transfer", "fee", "swap", "invoice payment", "salary"
STAKING_REWARD, AIRDROP, PAYMENT, BUY = "staking reward", "airdrop", "payment", "buy"
BUSINESS, TRADING = "business", "trading"
RULE_LABELS = (OWN_TRANSFER, FEE, SWAP, INVOICE_PAYMENT, SALARY, STAKING_REWARD, AIRDROP, PAYMENT, BUY)

# Functions of the organization's registered contracts, by name (matched whole, ignoring case; first
# match wins): (pattern, label, category, confidence, what such a call is). Names say what a call is
# for, not what it did, so these are likely rather than certain (confidence below 1): a learner that
# has seen the organization label such calls otherwise, with more confidence, wins over them.
_AIRDROP_HINT = re.compile(r"airdrop|merkle|distributor", re.IGNORECASE)
FUNCTION_RULES: tuple[tuple[re.Pattern, str, str, Decimal, str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), label, category, Decimal(confidence), meaning)
    for pattern, label, category, confidence, meaning in (
        (r"approve|setApprovalForAll|increaseAllowance|decreaseAllowance|permit", FEE, BUSINESS, "0.95",
         "an approval: only gas is paid"),
        (r"(unstake|withdraw|exit|redeem|unbond|unlock)\w*", OWN_TRANSFER, BUSINESS, "0.85",
         "units taken back out of staking or a deposit: they were yours"),
        (r"(stake|deposit|lock|bond|delegate)\w*", OWN_TRANSFER, BUSINESS, "0.85",
         "a staking deposit: the units stay yours"),
        (r"(getReward|claimReward|harvest)\w*", STAKING_REWARD, BUSINESS, "0.85", "a staking reward claimed"),
        (r"claim\w*", STAKING_REWARD, BUSINESS, "0.75", "a reward claimed"),
        (r"(swap|exactInput|exactOutput)\w*", SWAP, TRADING, "0.95", "a swap"),
        (r"transfer|transferFrom|safeTransfer|safeTransferFrom", PAYMENT, BUSINESS, "0.7", "a token transfer"),
        (r"(safeMint|mint)\w*", BUY, TRADING, "0.7", "a mint: new tokens for what you paid"),
    ))


def method_name(selector: str) -> str:
    signature = SIGNATURES.get((selector or "").lower())
    return signature[0].split("(", 1)[0] if signature else ""


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address


def contract_note(facts: TxFacts) -> str:
    """What the transaction did with a registered contract, in words ("" when it touched none)."""
    if not facts.contract_name:
        return ""
    name = f"{facts.contract_name}, a contract you registered"
    if facts.call is not None:
        shown = facts.call.arguments_text()
        return f"calls `{facts.call.signature}`{f' ({shown})' if shown else ''} on {name}"
    if facts.method_selector:
        return f"calls a function ({facts.method_selector}) that is not in the ABI of {name}"
    return f"{'from' if facts.direction == 'in' else 'to'} {name}"


def contract_rule(facts: TxFacts):
    """The likely suggestion for a call of a registered contract's function, by its name, or None."""
    if not facts.contract_name or facts.call is None:
        return None
    name = facts.call.name
    for pattern, label, category, confidence, meaning in FUNCTION_RULES:
        if not pattern.fullmatch(name):
            continue
        if label == STAKING_REWARD and name.lower().startswith("claim") and (
                _AIRDROP_HINT.search(facts.contract_name) or _AIRDROP_HINT.search(name)):
            label, meaning = AIRDROP, "an airdrop claimed"
        if label == BUY and facts.direction == "in":
            label, category, meaning = AIRDROP, BUSINESS, "tokens minted to you"
        return Suggestion(label, category, confidence, f"{contract_note(facts)}: {meaning}", Layer.RULE)
    return None


def with_contract_note(suggestion: Suggestion, facts: TxFacts) -> Suggestion:
    """`suggestion` with the registered contract named first in its reason (unchanged when none)."""
    note = contract_note(facts)
    return replace(suggestion, reason=f"{note}; {suggestion.reason}") if note else suggestion


def certain_rule(facts: TxFacts):
    """The certain suggestion for `facts`, or None (then a registered contract's rule or the learner
    decides). A fee or swap that called a registered contract names it."""
    ruled = _certain(facts)
    if ruled is not None and ruled.label in (FEE, SWAP):
        return with_contract_note(ruled, facts)
    return ruled


def _certain(facts: TxFacts):
    def sure(label, category, reason):
        return Suggestion(label, category, ONE, reason, Layer.RULE)

    if facts.matched_by == "invoice":
        return sure(INVOICE_PAYMENT, BUSINESS, "matched to an invoice by the app")
    if facts.matched_by == "payroll":
        return sure(SALARY, BUSINESS, "a payroll payout the app sent")
    if facts.counterparty_is_own:
        return sure(OWN_TRANSFER, BUSINESS,
                    f"transfer {'from' if facts.direction == 'in' else 'to'} the organization's own wallet "
                    f"{_short(facts.counterparty)}")
    selector = (facts.method_selector or "").lower()
    kind = SIGNATURES.get(selector, ("", ""))[1]
    router = DEX_ROUTERS.get((facts.called_contract or "").lower()) or DEX_ROUTERS.get(
        (facts.counterparty or "").lower())
    if kind == "swap":
        where = f" on the {router}" if router else ""
        return sure(SWAP, TRADING, f"calls {method_name(selector)}{where} (a DEX swap)")
    if router and facts.amount > 0:
        token = "ERC-20 Transfer" if facts.asset != "ETH" else "ETH transfer"
        side = "to" if facts.direction == "out" else "from"
        return sure(SWAP, TRADING, f"{token} {side} a known DEX router ({router})")
    if kind == "approve":
        return sure(FEE, BUSINESS, "an ERC-20 approve: only gas is paid")
    if facts.amount == 0 and facts.fee > 0:
        return sure(FEE, BUSINESS, "gas only: no value moved")
    return None
