"""The base ModelAdmin of every admin in the project.

Django's admin wraps its add/change/delete views in `django.db.transaction.atomic`. On this backend
that block is not a transaction, but it marks the connection as inside one, and then any real
MongoDB transaction a service opens (`django_mongodb_backend.transaction.atomic`) fails at commit
with TransactionManagementError. So these views run without Django's atomic; the services they call
provide the real transactions.
"""

import django.dispatch
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ORDER_VAR, PAGE_VAR
from django.core.exceptions import FieldDoesNotExist
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import FieldTextFilter
from unfold.views import ChangeList

from core import money, permissions
from core.time_index import EVERY_OWNER, time_index_total
from core.windows import LAST_PAGE_NUMBER, newest_first_rows

csrf_protect_m = method_decorator(csrf_protect)


# Every admin change is announced; the audit log (accounts) subscribes in AccountsConfig.ready().
# Keyword arguments: action ("admin_add", "admin_change", "admin_delete"), actor, target, ip, change.
admin_change_recorded = django.dispatch.Signal()


class BackofficeAdminViewsMixin:
    """Admin views without Django's atomic, and every admin change in the audit log."""

    def _audit(self, request, action: str, obj, message) -> None:
        admin_change_recorded.send(sender=type(self), action=action, actor=request.user, target=obj,
                                   ip=request.META.get("REMOTE_ADDR"),
                                   change=str(message)[:500] if message else "")

    def log_addition(self, request, obj, message):
        self._audit(request, "admin_add", obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, "admin_change", obj, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, "admin_delete", obj, "")
        return super().log_deletions(request, queryset)

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._changeform_view(request, object_id, form_url, extra_context)

    @csrf_protect_m
    def delete_view(self, request, object_id, extra_context=None):
        return self._delete_view(request, object_id, extra_context)


class PrefetchingChangeList(ChangeList):
    """A changelist that reads the objects its rows point at (the foreign keys among its columns, or
    the admin's `list_select_related`) by prefetch: one query per relation for the page. Never joined:
    the embedded server joins every row of the collection before it filters (README, backend
    behaviours); and a nullable key Django does not join (the organization column a platform
    superuser sees) would otherwise cost a query per row."""

    def apply_select_related(self, qs):
        named = self.model_admin.list_select_related
        named = list(named) if isinstance(named, (list, tuple)) else []
        related = dict.fromkeys([*named, *(name for name in self.list_display if self._is_relation_column(name))])
        return qs.prefetch_related(*related) if related else qs

    def get_results(self, request):
        """A time-indexed list read newest first (its default order) is asked for as a bounded window
        (core.windows), and counted from the day counts when nothing narrows it: the embedded server
        otherwise sorts and counts the whole collection for every page (issue 17: 11-38 s at 100k)."""
        owner = self.model_admin.time_window_owner(request)
        date_field = getattr(self.model, "time_index_field", None)
        ordering = self.queryset.query.order_by
        if (owner is None or not date_field or self.show_all or ORDER_VAR in request.GET
                or not ordering or ordering[0] != f"-{date_field}" or self.model_admin.list_editable):
            return super().get_results(request)
        if not 1 <= self.page_num <= LAST_PAGE_NUMBER:  # refused as Django's paginator does, before any query
            raise IncorrectLookupParameters(f"no page {self.page_num}")
        paginator = self.model_admin.get_paginator(request, self.queryset, self.list_per_page)
        if set(request.GET) <= {PAGE_VAR}:  # nothing narrows the list: its count is the day counts' total
            paginator.count = time_index_total(scope=self.model.time_index_scope, organization_id=owner)[0]
        offset = (self.page_num - 1) * self.list_per_page
        rows = newest_first_rows(self.queryset, date_field=date_field, scope=self.model.time_index_scope,
                                 owner_id=owner, limit=self.list_per_page, offset=offset)
        if offset and not rows:
            raise IncorrectLookupParameters(f"no page {self.page_num}")
        # What Django's get_results sets, with a count that is at least the rows seen.
        paginator.count = max(paginator.count, offset + len(rows[:self.list_per_page]))
        self.result_count = paginator.count
        self.show_full_result_count = self.model_admin.show_full_result_count
        self.show_admin_actions = True
        self.full_result_count = None
        self.result_list = rows[:self.list_per_page]
        self.can_show_all = False
        self.multi_page = paginator.count > self.list_per_page
        self.paginator = paginator

    def _is_relation_column(self, name) -> bool:
        if not isinstance(name, str):
            return False
        try:
            field = self.lookup_opts.get_field(name)
        except FieldDoesNotExist:
            return False
        return bool(field.many_to_one or field.one_to_one) and name != getattr(field, "attname", name)


class ExactValueFilter(FieldTextFilter):
    """A changelist filter on a field without choices as a box for the exact value: Django's default
    lists every distinct value of the field on every page, which the embedded server answers by
    reading the whole collection (issue 17: seconds per page at 100k rows)."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_kwarg = field_path
        self.lookup_val = params.get(field_path)
        super(FieldTextFilter, self).__init__(field, request, params, model, model_admin, field_path)


class BackofficeModelAdmin(BackofficeAdminViewsMixin, ModelAdmin):
    show_full_result_count = False  # a count is a full scan on the embedded server (stack.md, defect 4)

    def get_changelist(self, request, **kwargs):
        return PrefetchingChangeList

    def time_window_owner(self, request):
        """Whose day counts (core.time_index) window this admin's newest-first list: the staff member's
        organization, every owner for a platform superuser; None (an ordinary list) for a model that is
        not time-indexed by organization."""
        if getattr(self.model, "time_index_owner", None) != "organization_id":
            return None
        if permissions.can_see_all_organizations(request.user):
            return EVERY_OWNER
        return request.user.organization_id


class OrganizationScopedAdmin(BackofficeModelAdmin):
    """The admin of a model with an `organization` (core.tenancy.OrganizationOwned): staff see and
    pick only their own organization's rows; a platform superuser sees every organization.

    - changelists, change pages and actions read `get_queryset`, scoped by `for_admin`, so another
      organization's object id is "not found" (the admin redirects with a message, no data shown);
    - foreign-key choices to other scoped models are limited the same way;
    - a new object made by staff belongs to their organization.
    Models without an `organization` field are scoped by overriding `get_queryset` with the same rule
    (core.permissions.can_see_all_organizations).
    """

    organization_field = "organization"

    def get_queryset(self, request):
        return self.model.objects.for_admin(request.user)

    def get_list_display(self, request):
        columns = tuple(super().get_list_display(request))
        if permissions.can_see_all_organizations(request.user) and self.organization_field not in columns:
            columns = (*columns, self.organization_field)
        return columns

    def get_exclude(self, request, obj=None):
        excluded = tuple(super().get_exclude(request, obj) or ())
        if not permissions.can_see_all_organizations(request.user):
            excluded = (*excluded, self.organization_field)
        return excluded

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related.objects, "for_admin"):
            kwargs.setdefault("queryset", related.objects.for_admin(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change and getattr(obj, f"{self.organization_field}_id", None) is None:
            setattr(obj, f"{self.organization_field}_id", request.user.organization_id)
        super().save_model(request, obj, form, change)


# --- amounts in changelists: one way to print them (core.money), never 18 raw decimals -------------------

def quantity_column(field: str, *, description: str | None = None):
    """A list_display column printing a crypto quantity trimmed (`format_quantity`)."""

    @admin.display(description=description or field.replace("_", " "), ordering=field)
    def column(obj):
        return money.format_quantity(getattr(obj, field))

    column.__name__ = f"{field}_display"
    return column


def fiat_column(field: str, *, currency_field: str | None = None, description: str | None = None):
    """A list_display column printing a fiat amount with the currency's digits and separators; with
    `currency_field` (an attribute of the row) also its symbol."""

    @admin.display(description=description or field.replace("_", " "), ordering=field)
    def column(obj):
        currency = getattr(obj, currency_field) if currency_field else None
        return money.format_fiat(getattr(obj, field), currency or "USD", symbol=bool(currency))

    column.__name__ = f"{field}_display"
    return column
