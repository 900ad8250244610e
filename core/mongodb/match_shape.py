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
Nested `$and`s inside the top level are flattened first.

**The part one index serves.** The embedded server serves a filter from an index only when every one
of its fields is in that index's key, as equalities on a leading prefix followed by at most one
range (`{org, d: {$gte}}` on (org, d)). One more condition anywhere (`is_read: false`, a residual
`$or` for an expiry or a cursor's tie-break) and it looks up a single clause alone, typically the
organization's equality, and filters every one of its rows: measured on 100k rows of one owner,
a 50-row window with such a condition took 2.5-3.3 s, the window alone 0.04 s. `split_index_served`
returns the conditions one index answers and the rest, which the engine sends as a second `$match`
stage right after the first: the server then filters only the window's rows (0.04-0.07 s), and a
real MongoDB merges two adjacent `$match` stages into one before planning, so the split costs it
nothing. Pure: no Django, no driver.
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


_MISSING = object()
# What the embedded server's compound lookups accept after the equalities (storage._RANGE_OPS).
_SERVED_OPERATORS = frozenset({"$eq", "$gt", "$gte", "$lt", "$lte", "$in"})
_RANGE = frozenset({"$gt", "$gte", "$lt", "$lte"})


def _is_equality(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def _is_served_operator(value: Any) -> bool:
    if not _is_operator_doc(value) or not set(value) <= _SERVED_OPERATORS:
        return False
    if "$in" in value:  # `$in` and `$eq` are served alone only
        return len(value) == 1 and isinstance(value["$in"], list) and all(_is_equality(v) for v in value["$in"])
    if "$eq" in value:
        return len(value) == 1 and _is_equality(value["$eq"])
    return all(_is_equality(v) for v in value.values())


def split_index_served(match: dict, indexes: list[tuple[str, ...]],
                       unique: frozenset[tuple[str, ...]] = frozenset()) -> tuple[dict, dict | None]:
    """(served, residual): the conditions of a flat `match` that one of `indexes` (each a tuple of
    field names in key order) answers, and a match document of everything else, or None when one
    index answers all of it (or none answers any: nothing to gain).

    A range field's other operators (the backend writes `{$lte: d, $exists: true, $ne: null}`) stay
    in the rest. The index chosen: one of `unique` whose every field has an equality (a point lookup; an `_id`
    equality or `$in` is one too), else the one answering the most conditions, then the most
    equalities, then the first listed."""
    if not isinstance(match, dict) or len(match) < 2:
        return match, None
    plain = {key: value for key, value in match.items() if not key.startswith("$")}
    best: dict = {}
    best_rank = (False, 0, 0)
    point = plain.get("_id", _MISSING)
    if point is not _MISSING and (_is_equality(point) or (_is_served_operator(point) and "$in" in point)):
        best = {"_id": plain["_id"]}
    else:
        for fields in indexes:
            served: dict = {}
            for field in fields:
                value = plain.get(field, _MISSING)
                if value is _MISSING:
                    break
                if _is_equality(value):
                    served[field] = value
                    continue
                if _is_served_operator(value):
                    served[field] = value
                elif _is_operator_doc(value):  # e.g. the backend's {$lte: d, $exists: true, $ne: null}
                    bounds = {op: operand for op, operand in value.items() if op in _RANGE and _is_equality(operand)}
                    if bounds:
                        served[field] = bounds
                break
            equalities = sum(1 for value in served.values() if _is_equality(value))
            rank = (fields in unique and equalities == len(fields), len(served), equalities)
            if served and rank > best_rank:
                best, best_rank = served, rank
    if not best:
        return match, None
    residual = {}
    for key, value in match.items():
        if key not in best:
            residual[key] = value
        elif best[key] is not value:  # only the bounds of its operators were served: the rest is left
            residual[key] = {op: operand for op, operand in value.items() if op not in best[key]}
    return (best, residual) if residual else (match, None)
