"""The classifier's engine: plain Python (no Django), fed plain data, tested without Django.

- `facts`: `TxFacts`, what the engine knows of one transaction (the service builds it from the
  stored row), and `features(facts)`, the tokens the learner reads.
- `rules`: layer 1, rules that are certain (own transfers, gas-only, invoice payments and payroll
  payouts the app matched or sent, known method selectors and DEX routers), and the likely rules of
  a call to one of the organization's registered contracts, by the function's name (`FUNCTION_RULES`).
- `calls`: such a call decoded from the contract's ABI (function, signature, arguments).
- `learner`: layer 2, one model per organization (scikit-learn, hashed features, naive Bayes
  updated incrementally with `partial_fit`) trained on the organization's labelled history.
- `llm`: layer 3's pure part: the bounded prompt and the strict parsing of the answer.
- `classify(facts, learner)`: layer 1, then layer 2 (layer 3 is the service's, it needs the network).
"""

from ai_audit.classification.engine.facts import TxFacts, features
from ai_audit.classification.engine.learner import MIN_LABELS, Learner
from ai_audit.classification.engine.rules import certain_rule
from ai_audit.classification.engine.classify import classify
from ai_audit.classification.engine.suggestion import NOT_ENOUGH_HISTORY, Layer, Suggestion

__all__ = ["MIN_LABELS", "NOT_ENOUGH_HISTORY", "Layer", "Learner", "Suggestion", "TxFacts", "certain_rule", "classify",
           "features"]
