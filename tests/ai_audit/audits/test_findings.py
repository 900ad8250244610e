"""Findings from slither's results, excerpts, comparison and the compiler a pragma asks for
(ai_audit/audits/findings.py, pure)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ai_audit.audits import findings
from ai_audit.audits.findings import FindingError

RESULT = {
    "check": "reentrancy-eth", "impact": "High", "confidence": "Medium",
    "description": "Reentrancy in Vault.withdraw() (Vault.sol#11-16):\n\tExternal calls:  \n",
    "elements": [
        {"type": "function", "name": "withdraw",
         "source_mapping": {"lines": [11, 12, 13, 14, 15, 16], "filename_relative": "Vault.sol"},
         "type_specific_fields": {"parent": {"type": "contract", "name": "Vault"}}},
        {"type": "node", "name": "(ok,None) = msg.sender.call{value: amount}()",
         "source_mapping": {"lines": [13], "filename_relative": "Vault.sol"}},
    ],
}


def _finding(detector="d", severity="high", confidence="high", fingerprint=None, file="A.sol"):
    return {"detector": detector, "severity": severity, "confidence": confidence, "description": "", "file": file,
            "lines": [1], "contract": "", "function": "", "fingerprint": fingerprint or detector}


def test_normalise_slither_result():
    finding = findings.normalise(RESULT)
    assert finding["detector"] == "reentrancy-eth"
    assert (finding["severity"], finding["confidence"]) == ("high", "medium")
    assert finding["lines"] == [11, 12, 13, 14, 15, 16] and finding["file"] == "Vault.sol"
    assert (finding["contract"], finding["function"]) == ("Vault", "withdraw")
    assert finding["description"] == "Reentrancy in Vault.withdraw() (Vault.sol#11-16):\n\tExternal calls:"
    assert len(finding["fingerprint"]) == 24


def test_fingerprint_ignores_lines_but_not_what_it_is_about():
    moved = {**RESULT, "elements": [{**RESULT["elements"][0], "source_mapping": {"lines": [40, 41],
                                                                              "filename_relative": "Vault.sol"}}]}
    assert findings.normalise(moved)["fingerprint"] == findings.normalise(RESULT)["fingerprint"]
    other = {**RESULT, "elements": [{**RESULT["elements"][0], "name": "deposit"}]}
    assert findings.normalise(other)["fingerprint"] != findings.normalise(RESULT)["fingerprint"]


@pytest.mark.parametrize("bad", [{}, {"check": "x", "impact": "Severe", "confidence": "High"},
                                 {"check": "x", "impact": "High", "confidence": "Sure"}, None])
def test_not_a_slither_result(bad):
    with pytest.raises(FindingError):
        findings.normalise(bad)


def test_result_without_elements():
    finding = findings.normalise({"check": "pragma", "impact": "Informational", "confidence": "High",
                                  "description": "x"})
    assert finding["lines"] == [] and finding["file"] == "" and finding["severity"] == "informational"


def test_group_and_count_by_severity():
    items = [_finding("a", "low"), _finding("b", "high", "low"), _finding("c", "high", "high"),
             _finding("d", "optimization")]
    groups = findings.group_by_severity(items)
    assert [severity for severity, _ in groups] == ["high", "low", "optimization"]
    assert [f["detector"] for f in groups[0][1]] == ["c", "b"]  # higher confidence first
    assert findings.counts_by_severity(items) == {"high": 2, "medium": 0, "low": 1, "informational": 0,
                                                  "optimization": 1}


def test_excerpt():
    sources = {"A.sol": "\n".join(f"line {n}" for n in range(1, 21))}
    lines = findings.excerpt(sources, "A.sol", [5, 6])
    assert lines[0] == (3, "line 3", False) and lines[-1] == (8, "line 8", False)
    assert [n for n, _, flagged in lines if flagged] == [5, 6]
    assert findings.excerpt(sources, "A.sol", [1])[0][0] == 1
    assert findings.excerpt(sources, "A.sol", [20])[-1][0] == 20
    assert findings.excerpt(sources, "B.sol", [1]) == [] and findings.excerpt(sources, "A.sol", []) == []
    assert len(findings.excerpt(sources, "A.sol", list(range(1, 21)), max_lines=5)) == 5


def test_compare_fixed_new_unchanged_counted():
    before = [_finding("a"), _finding("a"), _finding("b")]
    after = [_finding("a"), _finding("c")]
    result = findings.compare(before, after)
    assert [f["detector"] for f in result["fixed"]] == ["a", "b"]
    assert [f["detector"] for f in result["new"]] == ["c"]
    assert [f["detector"] for f in result["unchanged"]] == ["a"]


@given(st.lists(st.sampled_from("abcd"), max_size=12), st.lists(st.sampled_from("abcd"), max_size=12))
def test_compare_accounts_for_every_finding(left, right):
    result = findings.compare([_finding(x) for x in left], [_finding(x) for x in right])
    assert len(result["fixed"]) + len(result["unchanged"]) == len(left)
    assert len(result["new"]) + len(result["unchanged"]) == len(right)


INSTALLED = ["0.8.37", "0.8.30", "0.8.26", "0.8.20"]


@pytest.mark.parametrize("pragma,expected", [
    ("^0.8.20", "0.8.37"),
    ("0.8.26", "0.8.26"),
    ("=0.8.30", "0.8.30"),
    (">=0.8.0 <0.8.27", "0.8.26"),
    ("~0.8.20", "0.8.37"),
    (">0.8.20 <=0.8.30", "0.8.30"),
    ("^0.7.0 || ^0.8.21", "0.8.37"),
    ("<0.8.21", "0.8.20"),
    ("^0.5.0", None),
    ("0.8", "0.8.37"),
])
def test_pick_compiler(pragma, expected):
    assert findings.pick_compiler({"A.sol": f"// x\npragma solidity {pragma};\ncontract A {{}}"}, INSTALLED) == expected


def test_pick_compiler_every_source_and_comments():
    sources = {"A.sol": "pragma solidity ^0.8.20;", "B.sol": "/* pragma solidity ^0.5.0; */ pragma solidity <0.8.27;",
               "C.sol": "contract C {}"}
    assert findings.pick_compiler(sources, INSTALLED) == "0.8.26"
    assert findings.pick_compiler({"A.sol": "contract A {}"}, INSTALLED) == "0.8.37"
    assert findings.pragmas("// pragma solidity 0.4.0;\npragma solidity 0.8.30;") == ["0.8.30"]
