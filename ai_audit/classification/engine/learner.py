"""Layer 2: one learner per organization, trained on its own labelled history (manual labels and
accepted suggestions).

scikit-learn does the learning: the features of `facts.features` are hashed (`FeatureHasher`, a fixed
space, so the model takes new counterparties and words without refitting a vocabulary) and a
multinomial naive Bayes per output (label, category) is updated with `partial_fit`: an override adds
one example in microseconds, and a full refit is the same calls over the whole history. Naive Bayes
works from a handful of examples, which is what a new organization has.

The model's probability is discounted by how much history backs it (`_support`): a counterparty seen
once says less than one seen fourteen times, whatever the model's arithmetic. The reason names that
history ("same counterparty as 14 transactions you labelled payment")."""

from __future__ import annotations

import pickle
import warnings
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from ai_audit.classification.engine.facts import TxFacts, features
from ai_audit.classification.engine.suggestion import NOT_ENOUGH_HISTORY, Layer, Suggestion, confidence_of

MIN_LABELS = 3  # below this many labelled transactions the learner says "not enough history"
N_FEATURES = 2 ** 13  # dense per class in naive Bayes: 8192 x labels x 8 bytes, zlib-compressed when stored
ALPHA = 0.05
FORMAT = 1  # bump when the pickled layout changes (an old stored model is then rebuilt)


class Learner:
    def __init__(self, labels: Sequence[str], categories: Sequence[str], *, min_labels: int = MIN_LABELS):
        self.labels = tuple(labels)
        self.categories = tuple(categories)
        self.min_labels = min_labels
        self.format = FORMAT
        # Imported here, not at the top: scikit-learn (with numpy and scipy) takes 1.3 s to import,
        # which every process paid at start-up through the admin (workers, commands, each test child).
        from sklearn.feature_extraction import FeatureHasher
        from sklearn.naive_bayes import MultinomialNB

        self.hasher = FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=False)
        self.label_model = MultinomialNB(alpha=ALPHA)
        self.category_model = MultinomialNB(alpha=ALPHA)
        self.labels_seen = 0
        self.label_counts: Counter = Counter()
        self.by_counterparty: dict[str, Counter] = defaultdict(Counter)

    @property
    def ready(self) -> bool:
        return self.labels_seen >= self.min_labels

    def learn(self, examples: Iterable[tuple[TxFacts, str, str]]) -> int:
        """Add labelled examples (facts, label, category); labels or categories outside the
        vocabulary are skipped. Returns how many were learnt."""
        kept = [(f, label, category) for f, label, category in examples
                if label in self.labels and category in self.categories]
        if not kept:
            return 0
        matrix = self.hasher.transform(features(f) for f, _, _ in kept)
        with warnings.catch_warnings():  # classes not seen yet have a zero prior: that is the point
            warnings.simplefilter("ignore", RuntimeWarning)
            self.label_model.partial_fit(matrix, [label for _, label, _ in kept], classes=list(self.labels))
            self.category_model.partial_fit(matrix, [c for _, _, c in kept], classes=list(self.categories))
        for f, label, _ in kept:
            self.labels_seen += 1
            self.label_counts[label] += 1
            if f.counterparty:
                self.by_counterparty[f.counterparty][label] += 1
        return len(kept)

    def _support(self, facts: TxFacts, label: str) -> tuple[float, str]:
        """How much history backs `label` for `facts` (a factor in (0, 1)) and the words for it."""
        history = self.by_counterparty.get(facts.counterparty) if facts.counterparty else None
        if history:
            same, total = history[label], sum(history.values())
            if same:
                agree = same / total
                reason = f"same counterparty as {same} transaction{'s' if same > 1 else ''} you labelled {label}"
                if same < total:
                    reason += f" ({total - same} other{'s' if total - same > 1 else ''} labelled otherwise)"
                return agree * same / (same + 1), reason
            return 0.5 / (total + 1), f"counterparty seen {total} times, never labelled {label}; similar to " \
                                      f"{self.label_counts[label]} transactions you labelled {label}"
        count = self.label_counts[label]
        return count / (count + 4) * 0.8, f"new counterparty; similar (asset, amount, timing, words) to " \
                                          f"{count} transaction{'s' if count > 1 else ''} you labelled {label}"

    def suggest(self, facts: TxFacts) -> Suggestion:
        if not self.ready:
            return Suggestion("", "", Decimal(0), f"{NOT_ENOUGH_HISTORY} ({self.labels_seen} labelled transactions)",
                              Layer.NONE)
        row = self.hasher.transform([features(facts)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            label_p = self.label_model.predict_proba(row)[0]
            category_p = self.category_model.predict_proba(row)[0]
        best = int(label_p.argmax())
        label = str(self.label_model.classes_[best])
        category = str(self.category_model.classes_[int(category_p.argmax())])
        support, reason = self._support(facts, label)
        confidence = confidence_of(float(label_p[best]) * support)
        return Suggestion(label, category, confidence, reason, Layer.MODEL)

    def dumps(self) -> bytes:
        return zlib.compress(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL), 6)

    @staticmethod
    def loads(data: bytes) -> Learner | None:
        """A stored learner (our own pickle, read from our database), or None when its format is old."""
        learner = pickle.loads(zlib.decompress(data))  # noqa: S301 (written by dumps above, never user input)
        return learner if isinstance(learner, Learner) and getattr(learner, "format", 0) == FORMAT else None
