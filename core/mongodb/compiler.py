"""django-mongodb-backend's compilers, each with its `$match` flattened (core.mongodb.match_shape).
Every compiler the backend has is re-declared here because Django looks them up by name in
`DatabaseOperations.compiler_module`."""

from django_mongodb_backend import compiler as backend

from core.mongodb.match_shape import flatten_match


class FlatMatch:
    def build_query(self, columns=None):
        query = super().build_query(columns)
        if query.match_mql:
            query.match_mql = flatten_match(query.match_mql)
        return query


class SQLCompiler(FlatMatch, backend.SQLCompiler):
    pass


class SQLInsertCompiler(FlatMatch, backend.SQLInsertCompiler):
    pass


class SQLDeleteCompiler(FlatMatch, backend.SQLDeleteCompiler):
    pass


class SQLUpdateCompiler(FlatMatch, backend.SQLUpdateCompiler):
    pass


class SQLAggregateCompiler(FlatMatch, backend.SQLAggregateCompiler):
    pass
