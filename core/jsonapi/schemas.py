"""The base schemas every router uses: one strict input base and one message answer.

Every input body is a `StrictSchema`, so the rules of strict input hold for every endpoint at the
schema edge (issue 19), whatever the field:
- unknown fields are refused (a typo is a 422, not a silently ignored value);
- text carries no control characters (NUL, ESC, DEL...; tab and line breaks are text);
- integers fit in 8 bytes (what MongoDB stores), anywhere in the body, nested values included;
- nested values (a `dict` or `list` field) nest at most `MAX_VALUE_DEPTH` levels;
- decimal strings are in plain notation (`-12.50`; never `1_000`, ` 1 `, `1e3`, `NaN`);
- dates and times fall in years MIN_YEAR..MAX_YEAR.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from decimal import Decimal
from functools import cache

from ninja import Schema
from pydantic import ConfigDict, model_validator
from pydantic_core import PydanticCustomError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_VALUE_DEPTH = 32
MIN_YEAR, MAX_YEAR = 1970, 2200
DATE_OUT_OF_RANGE = "date_out_of_range"  # the error type the API answers as `invalid_date`
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def text_problem(value: str) -> str | None:
    if CONTROL_CHARACTERS.search(value):
        return "control characters are not allowed"
    return None


def value_problem(value, depth: int = 0) -> str | None:
    """What is wrong with a raw JSON value (None when nothing): control characters in its text,
    integers beyond 8 bytes, nesting deeper than MAX_VALUE_DEPTH."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else "integers must fit in 8 bytes"
    if isinstance(value, (dict, list, tuple)):
        if depth >= MAX_VALUE_DEPTH:
            return f"nests deeper than {MAX_VALUE_DEPTH} levels"
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            problem = (text_problem(key) if isinstance(key, str) else None) or value_problem(item, depth + 1)
            if problem:
                return problem
    return None


def plain_decimal_problem(value) -> str | None:
    if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value):
        return "a decimal in plain notation, e.g. 1234.5 (no spaces, underscores or exponent)"
    return None


def _types_in(annotation) -> set:
    """The plain types an annotation admits: `Decimal | None` -> {Decimal, NoneType}."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _types_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_types_in(arg) for arg in typing.get_args(annotation)))
    return {annotation}


@cache
def _decimal_and_date_fields(cls) -> tuple[frozenset, frozenset]:
    decimals, dates = set(), set()
    for name, field in cls.model_fields.items():
        kinds = _types_in(field.annotation)
        if Decimal in kinds:
            decimals.add(field.alias or name)
        if kinds & {dt.date, dt.datetime}:
            dates.add(name)
    return frozenset(decimals), frozenset(dates)


class StrictSchema(Schema):
    """The base of every input body (see the module's docstring for the rules it enforces)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _strict_raw_values(cls, data):
        if not isinstance(data, dict):
            return data
        decimals, _ = _decimal_and_date_fields(cls)
        for key, value in data.items():
            problem = plain_decimal_problem(value) if key in decimals else None
            if problem is None and not (key in decimals and isinstance(value, int)):
                problem = (text_problem(key) if isinstance(key, str) else None) or value_problem(value)
            if problem:
                raise ValueError(f"{key}: {problem}")
        return data

    @model_validator(mode="after")
    def _sane_dates(self):
        _, dates = _decimal_and_date_fields(type(self))
        for name in dates:
            value = getattr(self, name, None)
            if isinstance(value, dt.date) and not MIN_YEAR <= value.year <= MAX_YEAR:
                raise PydanticCustomError(DATE_OUT_OF_RANGE, "{field}: the year must be between {low} and {high}",
                                          {"field": name, "low": MIN_YEAR, "high": MAX_YEAR})
        return self


class MessageOut(Schema):
    message: str
