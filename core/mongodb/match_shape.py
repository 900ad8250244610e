"""Flatten the `$match` documents the ORM builds into the plain query-operator shape.

The backend writes `filter(a=1, b__gte=2)` as `{"$and": [{"a": 1}, {"b": {"$gte": 2}}]}`. MongoDB
treats both shapes alike, but the embedded server (SecantusDB) only serves a query from an index
when the conditions are top-level fields: measured on 15k documents with an index on (org, d),
`{org, d: {$gte, $lt}}` + `$sort` + `$limit` took 0.3 s, the same conditions under `$and` 6.9 s (a full
scan). So the conditions of a top-level `$and` are merged into one document when that says exactly
the same thing:
- conditions on different fields merge;
- two operator documents on the same field merge when they use different operators
  (`{"d": {"$gte": x}}` + `{"d": {"$lt": y}}` -> `{"d": {"$gte": x, "$lt": y}}`);
- anything else (the same field twice as a value, the same operator twice, `$or`/`$expr`/`$nor` or any
  other top-level operator) stays in a residual `$and` beside the merged fields, in its order.
Nested `$and`s inside the top level are flattened first. Pure: no Django, no driver.
"""

from __future__ import annotations

from typing import Any


def _is_operator_doc(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(k, str) and k.startswith("$") for k in value)


def _conditions(match: dict) -> list[dict]:
    """The top-level conjuncts of a match document, nested `$and`s flattened."""
    if set(match) == {"$and"} and isinstance(match["$and"], list):
        found = []
        for child in match["$and"]:
            if isinstance(child, dict):
                found.extend(_conditions(child))
            else:
                found.append(child)
        return found
    if len(match) > 1 and "$and" in match and isinstance(match["$and"], list):
        rest = {key: value for key, value in match.items() if key != "$and"}
        return [*_conditions({"$and": match["$and"]}), *_split(rest)]
    return _split(match)


def _split(match: dict) -> list[dict]:
    return [{key: value} for key, value in match.items()] if len(match) > 1 else [match]


def flatten_match(match: dict) -> dict:
    """The same condition as `match`, with a top-level `$and` merged into plain fields where exact."""
    if not isinstance(match, dict) or "$and" not in match:
        return match
    merged: dict[str, Any] = {}
    residual: list = []
    for condition in _conditions(match):
        if not isinstance(condition, dict) or len(condition) != 1:
            residual.append(condition)
            continue
        (key, value), = condition.items()
        if key.startswith("$"):
            residual.append(condition)
        elif key not in merged:
            merged[key] = dict(value) if _is_operator_doc(value) else value
        elif _is_operator_doc(merged[key]) and _is_operator_doc(value) and not set(merged[key]) & set(value):
            merged[key].update(value)
        else:
            residual.append(condition)
    if residual:
        merged["$and"] = residual
    return merged
