"""Layer 3's pure part: what is sent to the optional language model, and the strict reading of its
answer.

Sent (and nothing else): the direction, the asset symbol, the amount and the fiat value rounded to
two significant digits, whether the counterparty is one of the organization's wallets or a known DEX
router (never an address), the called method's name when known, the weekday and part of the month,
the first 200 characters of the description with addresses removed, and the allowed labels and
categories. The answer must be one JSON object whose label and category are in the vocabulary and
whose confidence is a number in [0, 1]; anything else is discarded."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from ai_audit.classification.engine.facts import HEX_RE, TxFacts
from ai_audit.classification.engine.rules import DEX_ROUTERS, method_name
from ai_audit.classification.engine.suggestion import Layer, Suggestion, confidence_of

MAX_DESCRIPTION = 200
MAX_REASON = 300

SYSTEM = ("You classify one cryptocurrency transaction of a business's books. Answer with one JSON object "
          'only: {"label": <one of the labels>, "category": <one of the categories>, "confidence": <number '
          'from 0 to 1>, "reason": <one short sentence>}.')


def rounded(value: Decimal | None) -> str:
    if value is None:
        return "unknown"
    if value == 0:
        return "0"
    return f"{float(value):.2g}"


def prompt_facts(facts: TxFacts) -> dict:
    """The only facts sent to the model (see the module docstring)."""
    description = HEX_RE.sub("<address>", (facts.description or "").lower())[:MAX_DESCRIPTION]
    counterparty = ("one of the organization's own wallets" if facts.counterparty_is_own
                    else DEX_ROUTERS.get(facts.counterparty.lower(), "an external address") if facts.counterparty
                    else "unknown")
    return {
        "direction": {"in": "received", "out": "sent"}.get(facts.direction, "unknown"),
        "asset": facts.asset,
        "amount": rounded(facts.amount),
        "fiat_value": rounded(facts.fiat_value),
        "counterparty": counterparty,
        "method": (facts.call.name if facts.call is not None else method_name(facts.method_selector))
        or ("none" if not facts.method_selector else "unknown"),
        "weekday": facts.when.strftime("%A"),
        "day_of_month": facts.when.day,
        "description": description,
    }


def build_prompt(facts: TxFacts, labels, categories) -> tuple[str, str]:
    user = json.dumps({"transaction": prompt_facts(facts), "labels": list(labels), "categories": list(categories)},
                      ensure_ascii=False)
    return SYSTEM, user


def parse_answer(answer: dict, labels, categories) -> Suggestion | None:
    """The model's JSON object as a suggestion, or None when it is not strictly in the vocabulary."""
    if not isinstance(answer, dict):
        return None
    label, category, confidence = answer.get("label"), answer.get("category"), answer.get("confidence")
    if not isinstance(label, str) or label.strip().lower() not in labels:
        return None
    if not isinstance(category, str) or category.strip().lower() not in categories:
        return None
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, str)):
        return None
    try:
        value = Decimal(str(confidence))
    except InvalidOperation:
        return None
    if not value.is_finite() or not (0 <= value <= 1):
        return None
    reason = answer.get("reason")
    reason = reason.strip()[:MAX_REASON] if isinstance(reason, str) and reason.strip() else "no reason given"
    return Suggestion(label.strip().lower(), category.strip().lower(), confidence_of(float(value)),
                      f"language model: {reason}", Layer.LLM)
