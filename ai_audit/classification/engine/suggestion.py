"""A suggestion: a label and a category with a confidence and the reason in words."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

NOT_ENOUGH_HISTORY = "not enough history"


class Layer:
    RULE = "rule"
    MODEL = "model"
    LLM = "llm"
    NONE = "none"


@dataclass(frozen=True)
class Suggestion:
    label: str  # "" when there is none
    category: str
    confidence: Decimal  # in [0, 1], 4 places
    reason: str
    layer: str

    @property
    def empty(self) -> bool:
        return not self.label


def confidence_of(probability: float) -> Decimal:
    return min(Decimal(1), max(Decimal(0), Decimal(repr(float(probability))).quantize(Decimal("0.0001"))))
