"""Types of the API: ObjectId (a path converter `{oid:id}` and a schema type of 24 hex characters) and
the one output type of amounts (`Amount`, `FiatAmount`: decimal strings in plain notation)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from bson import ObjectId
from bson.errors import InvalidId
from django.urls import register_converter
from ninja.orm.fields import register_field
from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from core import money

OBJECT_ID_PATTERN = "^[0-9a-fA-F]{24}$"


def _to_object_id(value: Any) -> ObjectId:
    if isinstance(value, ObjectId):
        return value
    try:
        return ObjectId(str(value))
    except (InvalidId, TypeError):
        raise ValueError("must be a 24-character hexadecimal id") from None


ObjectIdStr = Annotated[
    ObjectId,
    PlainValidator(_to_object_id),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": OBJECT_ID_PATTERN, "example": "6553f1c2a4b5c6d7e8f90123"}),
]

register_field("ObjectIdAutoField", ObjectIdStr)
register_field("ObjectIdField", ObjectIdStr)


def amount_type(places: int):
    """A Decimal written as a string in plain notation (never `0E-17` or `1E+1`), rounded half-even to
    `places` (the stored precision) and trimmed of trailing zeros: `20.000000000000000000` -> "20"."""

    def serialize(value: Decimal) -> str:
        return money.plain(value, places)

    return Annotated[
        Decimal,
        PlainSerializer(serialize, return_type=str),
        WithJsonSchema({"type": "string", "format": "decimal", "example": "1.5"}),
    ]


# The output type of every amount in the API: crypto quantities (and wei counts) keep their 18 stored
# decimals, fiat values and prices their 8 (core.money).
Amount = amount_type(money.TOKEN_DECIMALS)
FiatAmount = amount_type(money.FIAT_DECIMALS)


class ObjectIdConverter:
    """Only 24-hex path segments match, so a malformed id is a plain 404 (never a 500)."""

    regex = "[0-9a-fA-F]{24}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


register_converter(ObjectIdConverter, "oid")


class TransactionHashConverter:
    """0x + 64 hex characters; anything else is a plain 404."""

    regex = "0x[0-9a-fA-F]{64}"

    def to_python(self, value: str) -> str:
        return value.lower()

    def to_url(self, value) -> str:
        return str(value)


register_converter(TransactionHashConverter, "txhash")
