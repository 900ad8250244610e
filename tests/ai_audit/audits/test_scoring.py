"""The risk score's rules (ai_audit/audits/scoring.py), exhaustively: weights, repeats, signals,
floors, cap, labels, and properties over any findings (hypothesis)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ai_audit.audits import scoring
from ai_audit.audits.scoring import ScoredFinding as F
from ai_audit.audits.scoring import risk_score


def test_no_findings_no_signals_scores_zero_low():
    result = risk_score([])
    assert (result.score, result.label, result.lines) == (0, "low", ())


@pytest.mark.parametrize("severity", scoring.SEVERITIES)
@pytest.mark.parametrize("confidence", scoring.CONFIDENCES)
def test_every_severity_and_confidence_pair(severity, confidence):
    points = scoring.SEVERITY_POINTS[severity] * scoring.CONFIDENCE_SHARE[confidence]
    floor = scoring.FLOORS.get(severity, 0) if confidence in ("high", "medium") else 0
    expected = max(int(points.quantize(Decimal(1), rounding="ROUND_HALF_UP")), floor)
    assert risk_score([F("d", severity, confidence)]).score == expected


def test_weights_as_documented():
    assert risk_score([F("x", "low", "high")]).score == 4
    assert risk_score([F("x", "low", "low")]).score == 2
    assert risk_score([F("x", "medium", "low")]).score == 8  # 7.5 rounds half up; no floor for low confidence
    assert risk_score([F("x", "high", "low")]).score == 20
    assert risk_score([F("x", "high", "high")]).score == 50  # 40, floor 50
    assert risk_score([F("x", "medium", "high")]).score == 25  # 15, floor 25
    assert risk_score([F("x", "informational", "high"), F("y", "optimization", "high")]).score == 0


def test_repeats_of_a_detector_count_half_and_at_most_three_times():
    one = risk_score([F("a", "low", "high")]).score
    two = risk_score([F("a", "low", "high")] * 2).score
    three = risk_score([F("a", "low", "high")] * 3).score
    ten = risk_score([F("a", "low", "high")] * 10).score
    assert (one, two, three, ten) == (4, 6, 8, 8)
    assert "a (10 findings)" in [line.reason for line in risk_score([F("a", "low", "high")] * 10).lines]
    # different detectors add fully
    assert risk_score([F("a", "low", "high"), F("b", "low", "high")]).score == 8


def test_repeat_keeps_the_heaviest_finding_full():
    result = risk_score([F("a", "low", "low"), F("a", "low", "high")])
    assert result.score == 5  # 4 + 2*0.5


@pytest.mark.parametrize("signal,points", sorted(scoring.SIGNAL_POINTS.items()))
def test_each_signal_adds_its_points(signal, points):
    result = risk_score([], [signal])
    assert result.score == int(points)
    assert result.lines[0].reason.startswith("signal: ")


def test_all_signals_together():
    assert risk_score([], list(scoring.SIGNAL_POINTS)).score == 60


def test_cap_at_100_and_critical():
    findings = [F(f"d{i}", "high", "high") for i in range(5)]
    result = risk_score(findings, list(scoring.SIGNAL_POINTS))
    assert (result.score, result.label) == (100, "critical")


def test_floor_is_explained_in_the_breakdown():
    result = risk_score([F("reentrancy-eth", "high", "medium")])
    assert result.score == 50 and result.label == "high"
    assert [line.reason for line in result.lines][-1].startswith("floor: a high-severity finding")
    assert sum(line.points for line in result.lines) == 50


def test_floor_does_not_lower_a_higher_score():
    result = risk_score([F("a", "high", "high"), F("b", "high", "high")])
    assert result.score == 80 and not any(line.reason.startswith("floor") for line in result.lines)


@pytest.mark.parametrize("score,label", [(0, "low"), (24, "low"), (25, "medium"), (49, "medium"), (50, "high"),
                                         (74, "high"), (75, "critical"), (100, "critical")])
def test_label_boundaries(score, label):
    assert scoring.label_for(score) == label


@pytest.mark.parametrize("bad", [-1, 101])
def test_label_outside_range_refused(bad):
    with pytest.raises(scoring.ScoringError):
        scoring.label_for(bad)


def test_unknown_vocabulary_refused():
    with pytest.raises(scoring.ScoringError):
        risk_score([F("a", "severe", "high")])
    with pytest.raises(scoring.ScoringError):
        risk_score([F("a", "high", "certain")])
    with pytest.raises(scoring.ScoringError):
        risk_score([], ["haunted"])


def test_as_dict_is_plain_data():
    data = risk_score([F("a", "medium", "medium")], ["delegatecall"]).as_dict()
    assert data["score"] == 25 and data["label"] == "medium"
    assert data["lines"][0] == {"reason": "a", "points": "12.0"}
    assert all(isinstance(line["points"], str) for line in data["lines"])


findings_strategy = st.lists(st.builds(F, st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(scoring.SEVERITIES),
                                       st.sampled_from(scoring.CONFIDENCES)), max_size=30)
signals_strategy = st.sets(st.sampled_from(sorted(scoring.SIGNAL_POINTS)))


@given(findings_strategy, signals_strategy)
def test_properties(findings, signals):
    result = risk_score(findings, signals)
    assert 0 <= result.score <= 100
    assert result.label == scoring.label_for(result.score)
    # order does not matter
    assert risk_score(list(reversed(findings)), signals).score == result.score
    # adding a finding or a signal never lowers the score
    assert risk_score(findings + [F("e", "low", "low")], signals).score >= result.score
    for extra in set(scoring.SIGNAL_POINTS) - signals:
        assert risk_score(findings, signals | {extra}).score >= result.score
    # the breakdown adds up to the score unless the cap cut it
    total = sum((line.points for line in result.lines), Decimal(0))
    assert result.score == 100 or abs(total - result.score) <= Decimal("0.5")
