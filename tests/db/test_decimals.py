"""core.mongodb.decimals: the fast Decimal128 -> Decimal gives exactly what bson's to_decimal()
gives (sign, digits and exponent, not only the value) for every kind of value, the fast
Decimal -> Decimal128 the same 128 bits as bson's Decimal128(), and the engine converts through both."""

import struct
from decimal import Decimal

import pytest
from bson.decimal128 import Decimal128
from hypothesis import example, given, settings, strategies as st

from core.mongodb.decimals import decimal128_to_decimal, decimal_to_decimal128


def same(value: Decimal128):
    expected = value.to_decimal()
    got = decimal128_to_decimal(value)
    if expected.is_nan():
        assert got.is_nan() and got.is_signed() == expected.is_signed() and got.is_snan() == expected.is_snan()
    else:
        assert got.as_tuple() == expected.as_tuple(), (value, got, expected)


decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: len(d.as_tuple().digits) <= 34 and -6176 <= d.as_tuple().exponent <= 6111)


@settings(max_examples=2000, deadline=None)
@given(decimals)
@example(Decimal("0"))
@example(Decimal("-0"))
@example(Decimal("-0E+5"))
@example(Decimal("1E-6176"))
@example(Decimal("9" * 34))
@example(Decimal("-1234.5678"))
@example(Decimal("0.000000000000000001"))
def test_the_same_decimal_as_bson_for_every_value(value):
    same(Decimal128(value))


@settings(max_examples=2000, deadline=None)
@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
def test_the_same_decimal_for_any_128_bits(low, high):
    """Every bit pattern, including the large-coefficient form, non-canonical coefficients, NaN and
    infinities."""
    same(Decimal128.from_bid(struct.pack("<QQ", low, high)))


@pytest.mark.parametrize("text", ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity"])
def test_special_values(text):
    same(Decimal128(text))
    assert decimal_to_decimal128(Decimal(text)).bid == Decimal128(Decimal(text)).bid


def same_bits(value: Decimal):
    try:
        expected = Decimal128(value).bid
    except Exception as error:  # bson refuses it (inexact, overflow): so must the fast path
        with pytest.raises(type(error)):
            decimal_to_decimal128(value)
        return
    assert decimal_to_decimal128(value).bid == expected, value


@settings(max_examples=2000, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
@example(Decimal("0"))
@example(Decimal("-0"))
@example(Decimal("-0E+5"))
@example(Decimal("1E-6176"))
@example(Decimal("1E-6177"))
@example(Decimal("1E+6111"))
@example(Decimal("1E+6112"))
@example(Decimal("9" * 34))
@example(Decimal("9" * 35))
@example(Decimal("123.456000"))
def test_the_same_bits_as_bson_for_every_value(value):
    """Including values bson has to clamp (large exponents), and those it refuses (too many digits)."""
    same_bits(value)


@pytest.mark.django_db
def test_the_engine_reads_decimals_through_it(organization):
    from core.mongodb.base import DatabaseOperations

    assert DatabaseOperations.convert_decimalfield_value is not None
    from django.db import connection

    assert connection.ops.convert_decimalfield_value(Decimal128("-12.3400"), None, connection).as_tuple() == \
        Decimal("-12.3400").as_tuple()
    assert connection.ops.convert_decimalfield_value(3, None, connection) == Decimal(3)
    assert connection.ops.convert_decimalfield_value(None, None, connection) is None
    assert connection.ops.adapt_decimalfield_value(Decimal("-12.3400")).bid == Decimal128("-12.3400").bid
    assert connection.ops.adapt_decimalfield_value(None) is None
