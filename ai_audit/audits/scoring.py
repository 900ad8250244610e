"""The risk score of an audit: 0-100 from the static analyser's findings and a few signals, with a
label. Pure Python (no Django): fed plain data, tested exhaustively (tests/ai_audit/audits/test_scoring.py).

How a score is made (every step is one line of the returned breakdown, so a report shows it):

1. Each finding weighs its severity times its confidence:

   | severity      | points |        | confidence | share |
   |---------------|--------|--------|------------|-------|
   | high          | 40     |        | high       | 100 % |
   | medium        | 15     |        | medium     | 80 %  |
   | low           | 4      |        | low        | 50 %  |
   | informational | 0      |
   | optimization  | 0      |

   The same detector firing again counts half each time, and at most `MAX_REPEATS_COUNTED` times
   (ten naming warnings are not a vulnerability).
2. Signals about the contract add fixed points: unverified source (+15; the audited source is not
   proven to be the deployed code), owner-only mint (+10; supply at one key's will), upgradeable proxy
   (+10; the code can change after the audit), selfdestruct (+15), delegatecall (+10).
3. Floors: a high-severity finding of medium or high confidence makes the score at least 50 (label
   "high"); a medium-severity one of medium or high confidence at least 25 ("medium").
4. The total is capped at 100 and rounded half-up to a whole number.

Labels: 0-24 low, 25-49 medium, 50-74 high, 75-100 critical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

SEVERITIES = ("high", "medium", "low", "informational", "optimization")
CONFIDENCES = ("high", "medium", "low")

SEVERITY_POINTS = {"high": Decimal(40), "medium": Decimal(15), "low": Decimal(4),
                   "informational": Decimal(0), "optimization": Decimal(0)}
CONFIDENCE_SHARE = {"high": Decimal("1"), "medium": Decimal("0.8"), "low": Decimal("0.5")}
REPEAT_SHARE = Decimal("0.5")
MAX_REPEATS_COUNTED = 3

SIGNAL_POINTS = {
    "unverified_source": Decimal(15),
    "owner_only_mint": Decimal(10),
    "upgradeable_proxy": Decimal(10),
    "selfdestruct": Decimal(15),
    "delegatecall": Decimal(10),
}
SIGNAL_TEXT = {
    "unverified_source": "the source is not verified against the deployed code",
    "owner_only_mint": "one owner account can mint new tokens",
    "upgradeable_proxy": "upgradeable proxy: the code can change after this audit",
    "selfdestruct": "the code can selfdestruct",
    "delegatecall": "the code uses delegatecall",
}

FLOORS = {"high": 50, "medium": 25}  # severity -> minimum score, for medium or high confidence
FLOOR_CONFIDENCES = ("high", "medium")

LABELS = ((75, "critical"), (50, "high"), (25, "medium"), (0, "low"))
MAX_SCORE = 100


class ScoringError(ValueError):
    """A finding or signal outside the vocabulary above."""


@dataclass(frozen=True)
class ScoredFinding:
    detector: str
    severity: str
    confidence: str


@dataclass(frozen=True)
class ScoreLine:
    """One step of the breakdown: what, how many points (before the cap)."""
    reason: str
    points: Decimal


@dataclass(frozen=True)
class RiskScore:
    score: int
    label: str
    lines: tuple[ScoreLine, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {"score": self.score, "label": self.label,
                "lines": [{"reason": line.reason, "points": str(line.points)} for line in self.lines]}


def label_for(score: int) -> str:
    if not 0 <= score <= MAX_SCORE:
        raise ScoringError(f"score {score} is outside 0-{MAX_SCORE}")
    for threshold, label in LABELS:
        if score >= threshold:
            return label
    raise AssertionError("unreachable: the last threshold is 0")


def finding_points(severity: str, confidence: str) -> Decimal:
    if severity not in SEVERITY_POINTS:
        raise ScoringError(f"unknown severity {severity!r}")
    if confidence not in CONFIDENCE_SHARE:
        raise ScoringError(f"unknown confidence {confidence!r}")
    return SEVERITY_POINTS[severity] * CONFIDENCE_SHARE[confidence]


def risk_score(findings, signals=()) -> RiskScore:
    """`findings`: ScoredFinding-like objects (detector, severity, confidence; lower case);
    `signals`: names of SIGNAL_POINTS that apply. Order of findings does not change the score."""
    signals = set(signals)
    unknown = signals - set(SIGNAL_POINTS)
    if unknown:
        raise ScoringError(f"unknown signals {sorted(unknown)}")
    lines: list[ScoreLine] = []
    by_detector: dict[str, list[Decimal]] = {}
    floor = 0
    for finding in findings:
        points = finding_points(finding.severity, finding.confidence)
        by_detector.setdefault(finding.detector, []).append(points)
        if finding.confidence in FLOOR_CONFIDENCES:
            floor = max(floor, FLOORS.get(finding.severity, 0))
    for detector in sorted(by_detector):
        weights = sorted(by_detector[detector], reverse=True)
        counted = weights[:MAX_REPEATS_COUNTED]
        total = counted[0] + sum((w * REPEAT_SHARE for w in counted[1:]), Decimal(0))
        if total:
            times = f" ({len(weights)} findings)" if len(weights) > 1 else ""
            lines.append(ScoreLine(f"{detector}{times}", total))
    for name in sorted(signals):
        lines.append(ScoreLine(f"signal: {SIGNAL_TEXT[name]}", SIGNAL_POINTS[name]))
    raw = sum((line.points for line in lines), Decimal(0))
    score = int(min(raw, Decimal(MAX_SCORE)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if floor > score:
        lines.append(ScoreLine(f"floor: a {_floor_severity(floor)}-severity finding keeps the score at least {floor}",
                               Decimal(floor - score)))
        score = floor
    return RiskScore(score=score, label=label_for(score), lines=tuple(lines))


def _floor_severity(floor: int) -> str:
    return next(severity for severity, value in FLOORS.items() if value == floor)
