"""Findings as the app keeps them, from slither's detector results; code excerpts; the comparison of
two audits; the compiler version a source asks for. Pure Python (no Django), tested in
tests/ai_audit/audits/test_findings.py.

A normalised finding is a plain dict:
    {"detector", "severity", "confidence"  (lower case, see scoring.SEVERITIES / CONFIDENCES),
     "description", "file", "lines" [int], "contract", "function", "fingerprint"}
The fingerprint names what the finding is about (detector, file and the declarations it points at,
not line numbers), so the same weakness in a later audit of moved code is "unchanged".
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

SEVERITY_ORDER = ("high", "medium", "low", "informational", "optimization")
_SEVERITY = {"high": "high", "medium": "medium", "low": "low", "informational": "informational",
             "optimization": "optimization"}
_CONFIDENCE = {"high": "high", "medium": "medium", "low": "low"}
MAX_DESCRIPTION = 2000
MAX_LINES = 200


class FindingError(ValueError):
    """A detector result that is not slither's shape."""


def _source_mapping(element: dict) -> dict:
    mapping = element.get("source_mapping") or {}
    return mapping if isinstance(mapping, dict) else {}


def _declaration(element: dict) -> str:
    parent = ((element.get("type_specific_fields") or {}).get("parent") or {})
    owner = parent.get("name") if isinstance(parent, dict) else None
    name = str(element.get("name", ""))
    return f"{element.get('type', '')}:{owner + '.' if owner else ''}{name}"


def normalise(result: dict) -> dict:
    """One slither detector result -> one finding."""
    try:
        detector = str(result["check"])
        severity = _SEVERITY[str(result["impact"]).lower()]
        confidence = _CONFIDENCE[str(result["confidence"]).lower()]
    except (KeyError, TypeError) as error:
        raise FindingError(f"not a slither detector result: {error}") from error
    elements = [e for e in (result.get("elements") or []) if isinstance(e, dict)]
    first = elements[0] if elements else {}
    mapping = _source_mapping(first)
    lines = sorted({int(n) for n in (mapping.get("lines") or []) if isinstance(n, int)})[:MAX_LINES]
    file = str(mapping.get("filename_relative") or mapping.get("filename_short") or "")
    contract, function = "", ""
    for element in elements:
        kind = element.get("type")
        if kind == "contract" and not contract:
            contract = str(element.get("name", ""))
        if kind == "function" and not function:
            function = str(element.get("name", ""))
            parent = (element.get("type_specific_fields") or {}).get("parent") or {}
            if isinstance(parent, dict) and not contract:
                contract = str(parent.get("name", ""))
    declarations = sorted({_declaration(e) for e in elements if e.get("type") != "node"}) or \
        sorted({_declaration(e) for e in elements})
    fingerprint = hashlib.sha256("|".join([detector, file, *declarations]).encode()).hexdigest()[:24]
    description = re.sub(r"[ \t]+\n", "\n", str(result.get("description", ""))).strip()[:MAX_DESCRIPTION]
    return {"detector": detector, "severity": severity, "confidence": confidence, "description": description,
            "file": file, "lines": lines, "contract": contract, "function": function, "fingerprint": fingerprint}


def sort_key(finding: dict):
    return (SEVERITY_ORDER.index(finding["severity"]), ("high", "medium", "low").index(finding["confidence"]),
            finding["detector"], finding["file"], finding["lines"][:1])


def group_by_severity(findings) -> list[tuple[str, list[dict]]]:
    """[(severity, findings)] in order high..optimization, only severities present."""
    groups = {severity: [] for severity in SEVERITY_ORDER}
    for finding in sorted(findings, key=sort_key):
        groups[finding["severity"]].append(finding)
    return [(severity, items) for severity, items in groups.items() if items]


def counts_by_severity(findings) -> dict[str, int]:
    counts = Counter(f["severity"] for f in findings)
    return {severity: counts.get(severity, 0) for severity in SEVERITY_ORDER}


def excerpt(sources: dict, file: str, lines, *, context: int = 2, max_lines: int = 30) -> list[tuple[int, str, bool]]:
    """The lines of `file` a finding points at, with `context` lines around: [(number, text, flagged)].
    Empty when the file is not among the sources."""
    text = sources.get(file)
    if text is None or not lines:
        return []
    all_lines = text.splitlines()
    flagged = set(lines)
    start = max(1, min(lines) - context)
    end = min(len(all_lines), max(lines) + context, start + max_lines - 1)
    return [(n, all_lines[n - 1], n in flagged) for n in range(start, end + 1)]


def compare(before, after) -> dict[str, list[dict]]:
    """Findings of an earlier audit vs a later one, by fingerprint (counted, so two of one kind
    against one is one unchanged and one fixed): {"fixed", "new", "unchanged"}."""
    before, after = list(before), list(after)
    left = Counter(f["fingerprint"] for f in before)
    right = Counter(f["fingerprint"] for f in after)
    common = left & right
    fixed, new, unchanged = [], [], []
    seen_common: Counter = Counter()
    for finding in before:
        key = finding["fingerprint"]
        if seen_common[key] < common[key]:
            seen_common[key] += 1
        else:
            fixed.append(finding)
    seen_common = Counter()
    for finding in after:
        key = finding["fingerprint"]
        if seen_common[key] < common[key]:
            seen_common[key] += 1
            unchanged.append(finding)
        else:
            new.append(finding)
    return {"fixed": sorted(fixed, key=sort_key), "new": sorted(new, key=sort_key),
            "unchanged": sorted(unchanged, key=sort_key)}


# --- the compiler a source asks for -----------------------------------------------------------------

PRAGMA = re.compile(r"^\s*pragma\s+solidity\s+([^;]+);", re.MULTILINE)
_CONSTRAINT = re.compile(r"(\^|~|>=|<=|>|<|=)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return re.sub(r"//[^\n]*", "", text)


def pragmas(source: str) -> list[str]:
    return [m.group(1).strip() for m in PRAGMA.finditer(strip_comments(source))]


def _version(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))[:3]


def _satisfies(version: tuple[int, int, int], expression: str) -> bool:
    """Solidity's pragma language: space-separated constraints ANDed, `||` ORed."""
    for alternative in expression.split("||"):
        constraints = _CONSTRAINT.findall(alternative)
        if not constraints:
            continue
        if all(_one(version, op, major, minor, patch) for op, major, minor, patch in constraints):
            return True
    return False


def _one(version, op, major, minor, patch) -> bool:
    wanted = (int(major), int(minor or 0), int(patch or 0))
    if op == "^":
        if wanted[0] > 0:
            upper = (wanted[0] + 1, 0, 0)
        elif wanted[1] > 0:
            upper = (0, wanted[1] + 1, 0)
        else:
            upper = (0, 0, wanted[2] + 1)
        return wanted <= version < upper
    if op == "~":
        upper = (wanted[0], wanted[1] + 1, 0) if minor else (wanted[0] + 1, 0, 0)
        return wanted <= version < upper
    if op == ">=":
        return version >= wanted
    if op == "<=":
        return version <= wanted
    if op == ">":
        return version > wanted
    if op == "<":
        return version < wanted
    if minor and patch:
        return version == wanted
    return version[: 1 + bool(minor)] == wanted[: 1 + bool(minor)]


def pick_compiler(sources: dict, installed) -> str | None:
    """The newest installed version that every source's pragma accepts (sources without a pragma
    accept any); None when none does."""
    expressions = [p for text in sources.values() for p in pragmas(text)]
    for version in sorted(installed, key=_version, reverse=True):
        if all(_satisfies(_version(version), expression) for expression in expressions):
            return version
    return None
