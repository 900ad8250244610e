"""`classify`: certain rules first, then a registered contract's function rules, then the organization's
learner."""

from __future__ import annotations

from decimal import Decimal

from ai_audit.classification.engine.facts import TxFacts
from ai_audit.classification.engine.rules import certain_rule, contract_rule, with_contract_note
from ai_audit.classification.engine.suggestion import NOT_ENOUGH_HISTORY, Layer, Suggestion


def classify(facts: TxFacts, learner=None) -> Suggestion:
    """Layer 1: certain rules, then the function rules of a registered contract's call; layer 2: the
    `learner` (a learner.Learner or None), which wins over a function rule only when it is surer. A
    registered contract is named in the reason whichever layer answers."""
    ruled = certain_rule(facts)
    if ruled is not None:
        return ruled
    named = contract_rule(facts)
    learnt = learner.suggest(facts) if learner is not None and learner.ready else None
    if named is not None and (learnt is None or learnt.confidence <= named.confidence):
        return named
    if learnt is not None:
        return with_contract_note(learnt, facts)
    labelled = 0 if learner is None else learner.labels_seen
    return with_contract_note(Suggestion("", "", Decimal(0), f"{NOT_ENOUGH_HISTORY} ({labelled} labelled "
                                                             f"transactions)", Layer.NONE), facts)
