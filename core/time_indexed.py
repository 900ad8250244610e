"""Models whose lists are paged newest first over the time index (`core/time_index.py`): the
`TimeIndexed` mixin and `TimeIndexedQuerySet` keep the per-organization day counts in step with every
way a row is written: `save()` (insert, or a date moved), `delete()`, and the query set's
`bulk_create`, `update(<date>=...)` and `delete()`.

A model declares its scope and date field:

    class Transaction(TimeIndexed, OrganizationOwned):
        time_index_scope, time_index_field = "transactions", "transaction_date"
        objects = TimeIndexedQuerySet.as_manager()

and its list endpoint pages with `NewestFirstWindow(date_field=..., scope=...)`. Rows are counted per
organization; a list that is one person's (notifications) counts per `time_index_owner = "user_id"`
and pages with `NewestFirstWindow(..., owner_attribute="pk")`. The counts only
choose where a first page's window starts: a count that drifts (a raw write, a crash between the
commit and the count) costs a wider read, never a missing row, and the daily `time_indexes_rebuild`
job recounts every scope from the data.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.db import models

from core.tenancy import OrganizationQuerySet
from core.time_index import time_index_add, time_index_move, time_index_rebuild


def _moment(value) -> dt.datetime | None:
    """A row's date as the database will hold it (bulk_create hands over what the caller set, maybe
    an ISO string)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return models.DateTimeField().to_python(value)


def _counted(model, owner_id, moments, sign: int = 1) -> None:
    time_index_add(scope=model.time_index_scope, organization_id=owner_id, moments=[_moment(m) for m in moments],
                   sign=sign)


def _grouped(rows) -> dict:
    grouped: dict = {}
    for organization_id, moment in rows:
        grouped.setdefault(organization_id, []).append(moment)
    return grouped


class TimeIndexedQuerySet(OrganizationQuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        field, owner = self.model.time_index_field, self.model.time_index_owner
        for owner_id, moments in _grouped((getattr(row, owner), getattr(row, field)) for row in created).items():
            _counted(self.model, owner_id, moments)
        return created

    def delete(self):
        doomed = list(self.values_list(self.model.time_index_owner, self.model.time_index_field))
        result = super().delete()
        for owner_id, moments in _grouped(doomed).items():
            _counted(self.model, owner_id, moments, sign=-1)
        return result

    delete.alters_data = True
    delete.queryset_only = True

    def update(self, **kwargs):
        field = self.model.time_index_field
        if field not in kwargs:
            return super().update(**kwargs)
        moved = list(self.values_list(self.model.time_index_owner, field))
        result = super().update(**kwargs)
        for owner_id, old in moved:
            time_index_move(scope=self.model.time_index_scope, organization_id=owner_id, old=_moment(old),
                            new=_moment(kwargs[field]))
        return result

    update.alters_data = True


class TimeIndexed(models.Model):
    """Mixin of an organization-owned model counted in the time index (see the module's doc)."""

    time_index_scope: str = ""
    time_index_field: str = ""
    time_index_owner: str = "organization_id"  # whose rows are counted together

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        field = self.time_index_field
        adding = self._state.adding
        super().save(*args, **kwargs)
        owner_id = getattr(self, self.time_index_owner)
        if adding:
            _counted(type(self), owner_id, [getattr(self, field)])
        elif "_time_index_stored" in self.__dict__ and field in self.__dict__ \
                and getattr(self, field) != self._time_index_stored:
            time_index_move(scope=self.time_index_scope, organization_id=owner_id,
                            old=_moment(self._time_index_stored), new=_moment(getattr(self, field)))
        if field in self.__dict__:
            self._time_index_stored = getattr(self, field)

    def delete(self, *args, **kwargs):
        moment = getattr(self, self.time_index_field)
        result = super().delete(*args, **kwargs)
        _counted(type(self), getattr(self, self.time_index_owner), [moment], sign=-1)
        return result

    @classmethod
    def from_db(cls, db, field_names, values):
        row = super().from_db(db, field_names, values)
        if cls.time_index_field in field_names:  # the stored date, to tell a moved date on save
            row._time_index_stored = row.__dict__.get(cls.time_index_field)
        return row


def time_indexed_models() -> list[type[TimeIndexed]]:
    return [model for model in apps.get_models() if issubclass(model, TimeIndexed)]


def time_indexes_rebuild() -> dict[str, int]:
    """Recount every scope from its data (the daily job, and after an upgrade): days counted per scope."""
    return {model.time_index_scope: time_index_rebuild(
        scope=model.time_index_scope, collection=model._meta.db_table,
        date_field=model._meta.get_field(model.time_index_field).column,
        organization_field=model._meta.get_field(model.time_index_owner.removesuffix("_id")).column)
        for model in time_indexed_models()}
