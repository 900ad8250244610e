"""ENGINE "core.mongodb": django-mongodb-backend whose compilers flatten `$match` (core.mongodb.compiler)."""

from django_mongodb_backend.base import DatabaseWrapper as MongoDatabaseWrapper
from django_mongodb_backend.operations import DatabaseOperations as MongoDatabaseOperations


class DatabaseOperations(MongoDatabaseOperations):
    compiler_module = "core.mongodb.compiler"


class DatabaseWrapper(MongoDatabaseWrapper):
    ops_class = DatabaseOperations
