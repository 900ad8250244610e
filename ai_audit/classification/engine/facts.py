"""What the engine knows of one transaction, and the features the learner reads from it.

Only facts known when the transaction arrives go in: never its label, its type or its tax category
(an override changes those, and a model that read them would learn its own answer)."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal

from ai_audit.classification.engine.calls import DecodedCall

WORD_RE = re.compile(r"[a-z][a-z0-9]{2,}")
HEX_RE = re.compile(r"0x[0-9a-f]+")
MAX_WORDS = 20


@dataclass(frozen=True)
class TxFacts:
    direction: str  # "in" (units arrive), "out" (units leave) or "" (unknown)
    asset: str  # symbol, e.g. "ETH", "USDC"
    amount: Decimal  # units of the asset, >= 0
    when: dt.datetime  # aware
    fiat_value: Decimal | None = None  # in the organization's reporting fiat, when known
    fee: Decimal = Decimal(0)  # gas paid (ETH) or the row's fee
    counterparty: str = ""  # the other address (lower-case), or "" (imports)
    counterparty_is_own: bool = False  # the other address is one of the organization's wallets
    method_selector: str = ""  # first 4 bytes of the call data, "0x" + 8 hex digits, or ""
    called_contract: str = ""  # the address the transaction called (lower-case), or ""
    description: str = ""
    source: str = ""  # chain / import / manual / demo
    matched_by: str = ""  # "invoice" or "payroll": the app itself matched or sent it
    # The organization's registered contract the transaction called (or, received, came from), by its
    # registered name, and the call decoded from that contract's ABI (None: not one of its functions).
    contract_name: str = ""
    call: DecodedCall | None = None


def magnitude(value: Decimal | None) -> str:
    """The order of magnitude of a positive amount ("e3" for 1000..9999), "zero" or "none"."""
    if value is None:
        return "none"
    if value <= 0:
        return "zero"
    return f"e{math.floor(value.log10())}"


def words(text: str) -> list[str]:
    """Lower-case words of a description (addresses and numbers left out), at most MAX_WORDS."""
    cleaned = HEX_RE.sub(" ", (text or "").lower())
    return WORD_RE.findall(cleaned)[:MAX_WORDS]


def day_part(day: int) -> str:
    return "start" if day <= 5 else ("end" if day >= 25 else "mid")


def features(facts: TxFacts) -> list[str]:
    """The tokens of `facts` (hashed by the learner): counterparty, direction, asset, amount and value
    scale, method selector, time pattern, description words."""
    direction = facts.direction or "unknown"
    tokens = [
        f"dir={direction}", f"asset={facts.asset}", f"dir_asset={direction}:{facts.asset}",
        f"amount={magnitude(facts.amount)}", f"asset_amount={facts.asset}:{magnitude(facts.amount)}",
        f"value={magnitude(facts.fiat_value)}", f"source={facts.source}",
        f"weekday={facts.when.weekday()}", f"month_part={day_part(facts.when.day)}",
        f"hours={facts.when.hour // 6}",
    ]
    if facts.counterparty:
        tokens += [f"cp={facts.counterparty}", f"cp_dir={facts.counterparty}:{direction}"] * 2
    if facts.counterparty_is_own:
        tokens.append("cp=own")
    if facts.method_selector:
        tokens.append(f"selector={facts.method_selector}")
    if facts.called_contract:
        tokens.append(f"called={facts.called_contract}")
    if facts.call is not None:
        tokens.append(f"function={facts.call.name.lower()}")
    if facts.fee and not facts.amount:
        tokens.append("gas_only")
    tokens += [f"word={word}" for word in words(facts.description)]
    return tokens
