"""Decimal128 -> Decimal, several times faster than `bson.Decimal128.to_decimal()` (issue 17: the
conversion was a fifth of reading a history for a tax report).

`to_decimal()` copies the coefficient byte by byte into an array, turns it into a tuple of digits and
builds the Decimal in a 34-digit context. Here the coefficient is two integer operations on the 128
bits, and the Decimal is built from its scientific string, which CPython's C decimal parses exactly
(the same sign, coefficient and exponent: `tests/db/test_decimals.py` checks every kind of value
against `to_decimal()`). NaN, infinities and the rare second encoding go to `to_decimal()`.
"""

from __future__ import annotations

import struct
from decimal import Decimal

from bson.decimal128 import Decimal128

_UNPACK = struct.Struct("<QQ").unpack
_SIGN = 1 << 63
_SPECIAL = 3 << 61  # both top combination bits set: infinities, NaNs, or the large-coefficient form
_EXPONENT_BIAS = 6176
_MAX_COEFFICIENT = 10**34 - 1


def decimal128_to_decimal(value: Decimal128) -> Decimal:
    low, high = _UNPACK(value.bid)
    if high & _SPECIAL == _SPECIAL:
        return value.to_decimal()
    coefficient = ((high & 0x1FFFFFFFFFFFF) << 64) | low
    exponent = ((high >> 49) & 0x3FFF) - _EXPONENT_BIAS
    if coefficient > _MAX_COEFFICIENT:
        coefficient = 0  # what the standard (and to_decimal) make of a non-canonical coefficient
    return Decimal(f"{'-' if high & _SIGN else ''}{coefficient}E{exponent}")
