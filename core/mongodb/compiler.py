"""django-mongodb-backend's compilers, each with its `$match` flattened (core.mongodb.match_shape),
and reads sending the part of it one of the model's indexes serves as its own first `$match` stage.
Every compiler the backend has is re-declared here because Django looks them up by name in
`DatabaseOperations.compiler_module`."""

from functools import cache

from django.db import models
from django_mongodb_backend import compiler as backend
from django_mongodb_backend.query import MongoQuery

from core.mongodb.match_shape import flatten_match, split_index_served


@cache
def model_index_keys(model) -> tuple[tuple[tuple[str, ...], ...], frozenset[tuple[str, ...]]]:
    """The key fields (columns, in key order) of the indexes the model declares: `Meta.indexes`,
    unconditional unique constraints, `unique_together`, and indexed or unique fields; and which of
    them are unique. Partial and expression indexes are left out: a lookup is served by them only
    when it implies their condition. (`_id` is not listed: match_shape knows it.)"""
    meta = model._meta
    column = {field.name: field.column for field in meta.concrete_fields}
    column.update({field.attname: field.column for field in meta.concrete_fields})

    def columns(names) -> tuple[str, ...] | None:
        found = tuple(column.get(name.lstrip("-")) for name in names)
        return found if found and None not in found else None

    unique = [columns(constraint.fields) for constraint in meta.constraints
              if isinstance(constraint, models.UniqueConstraint) and constraint.fields and constraint.condition is None]
    unique += [columns(names) for names in meta.unique_together]
    unique += [(field.column,) for field in meta.concrete_fields if field.unique and field.column != "_id"]
    keys = [columns(index.fields) for index in meta.indexes if not index.condition and not index.expressions]
    keys += unique + [(field.column,) for field in meta.concrete_fields if field.db_index and not field.unique]
    return tuple(key for key in keys if key), frozenset(key for key in unique if key)


class IndexServedQuery(MongoQuery):
    def get_pipeline(self):
        pipeline = super().get_pipeline()
        if not self.match_mql or self.query.model is None:
            return pipeline
        served, residual = split_index_served(self.match_mql, *model_index_keys(self.query.model))
        if residual is None:
            return pipeline
        for at, stage in enumerate(pipeline):
            if stage.get("$match") is self.match_mql:  # not when the backend nested the pipeline
                pipeline[at:at + 1] = [{"$match": served}, {"$match": residual}]
                break
        return pipeline


class FlatMatch:
    query_class = IndexServedQuery

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
