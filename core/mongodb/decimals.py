"""Decimal128 <-> Decimal, several times faster than bson's own conversions (issue 17: reading was a
fifth of a tax report's history read; writing a seventh of posting journal entries in bulk).

`to_decimal()` copies the coefficient byte by byte into an array, turns it into a tuple of digits and
builds the Decimal in a 34-digit context. Here the coefficient is two integer operations on the 128
bits, and the Decimal is built from its scientific string, which CPython's C decimal parses exactly
(the same sign, coefficient and exponent: `tests/db/test_decimals.py` checks every kind of value
against `to_decimal()`). NaN, infinities and the rare second encoding go to `to_decimal()`.

`Decimal128(decimal)` rounds the value into a 34-digit context and copies the coefficient bit by bit.
Here a value that needs no rounding or clamping (at most 34 digits, exponent in [-6176, 6111]: every
amount the app stores) is split into its two 64-bit halves directly; anything else goes to bson.
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
_LOW_BITS = (1 << 64) - 1
_EXPONENT_MIN_EXACT, _EXPONENT_MAX_EXACT = -6176, 6111  # no rounding, no clamping in between


def decimal128_to_decimal(value: Decimal128) -> Decimal:
    low, high = _UNPACK(value.bid)
    if high & _SPECIAL == _SPECIAL:
        return value.to_decimal()
    coefficient = ((high & 0x1FFFFFFFFFFFF) << 64) | low
    exponent = ((high >> 49) & 0x3FFF) - _EXPONENT_BIAS
    if coefficient > _MAX_COEFFICIENT:
        coefficient = 0  # what the standard (and to_decimal) make of a non-canonical coefficient
    return Decimal(f"{'-' if high & _SIGN else ''}{coefficient}E{exponent}")


def decimal_to_decimal128(value: Decimal) -> Decimal128:
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or len(digits) > 34 or not (
            _EXPONENT_MIN_EXACT <= exponent <= _EXPONENT_MAX_EXACT):
        return Decimal128(value)  # NaN, infinities, values bson must round or clamp (and refuses)
    if -64 <= exponent <= 0:  # the usual amount: its plain digits without the point are the coefficient
        coefficient = abs(int(f"{value:f}".replace(".", "", 1)))
    else:
        coefficient = int("".join(map(str, digits)))
    high = (coefficient >> 64) | ((exponent + _EXPONENT_BIAS) << 49) | (_SIGN if sign else 0)
    return Decimal128((high, coefficient & _LOW_BITS))
