"""`classify`: certain rules first, then the organization's learner."""

from __future__ import annotations

from decimal import Decimal

from ai_audit.classification.engine.facts import TxFacts
from ai_audit.classification.engine.rules import certain_rule
from ai_audit.classification.engine.suggestion import NOT_ENOUGH_HISTORY, Layer, Suggestion


def classify(facts: TxFacts, learner=None) -> Suggestion:
    """Layer 1 (certain rules), else layer 2 (`learner`, a learner.Learner or None)."""
    ruled = certain_rule(facts)
    if ruled is not None:
        return ruled
    if learner is None or not learner.ready:
        labelled = 0 if learner is None else learner.labels_seen
        return Suggestion("", "", Decimal(0), f"{NOT_ENOUGH_HISTORY} ({labelled} labelled transactions)", Layer.NONE)
    return learner.suggest(facts)
