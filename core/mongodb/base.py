"""ENGINE "core.mongodb": django-mongodb-backend whose compilers flatten `$match` (core.mongodb.compiler)
and whose decimal reads and writes convert Decimal128 fast (core.mongodb.decimals)."""

from decimal import Decimal

from django_mongodb_backend.base import DatabaseWrapper as MongoDatabaseWrapper
from django_mongodb_backend.operations import DatabaseOperations as MongoDatabaseOperations

from core.mongodb.decimals import decimal128_to_decimal, decimal_to_decimal128


class DatabaseOperations(MongoDatabaseOperations):
    compiler_module = "core.mongodb.compiler"

    def adapt_decimalfield_value(self, value, max_digits=None, decimal_places=None):
        if value is None:
            return None
        return decimal_to_decimal128(value if isinstance(value, Decimal) else Decimal(value))

    def convert_decimalfield_value(self, value, expression, connection):
        if value is None or isinstance(value, Decimal):
            return value
        try:
            return decimal128_to_decimal(value)
        except AttributeError:  # an int from an annotation such as ExpressionWrapper(Value(1), DecimalField())
            return Decimal(value)


class DatabaseWrapper(MongoDatabaseWrapper):
    ops_class = DatabaseOperations
