"""Back-office pages of reporting: the organization's tax reports with a generate form (rows of
reports still generating poll themselves with HTMX until they are completed or failed) and the
financial statement pages.

Who: every page needs core.permissions.can_view_books and every POST can_work_books (accountants,
managers, admins); a plain member gets the 403 page. Rows are read through the organization-scoped
queryset (core.tenancy): another organization's report id is 404."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from core import permissions
from core.errors import DomainError, ErrorCode, InvalidInput
from core.http_status import http_status_of
from core.organizations import organization_today
from ledger.cost_basis import METHODS
from reporting.models import StatementKind, TaxReportType
from reporting.selectors import financial_statement_list, tax_report_list
from reporting.services import (
    financial_statement_compute,
    financial_statement_create,
    statement_request_clean,
    tax_report_request,
)
from reporting.statement_exports import TITLES, statement_chart_data, statement_rows
from reporting.statements import statement_as_json

PAGE_ROWS = 50


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise InvalidInput(ErrorCode.INVALID_DATE, f"Not a date (YYYY-MM-DD): {value[:20]!r}") from None


def _require_books(user) -> None:
    if not permissions.can_view_books(user):
        raise PermissionDenied("Tax reports and financial statements are for accountants, managers and admins.")


def _context(request, **extra) -> dict:
    organization = request.user.organization
    return {"reports": list(tax_report_list(request.user).prefetch_related("user")[:PAGE_ROWS]),
            "organization": organization, "report_types": TaxReportType.choices, "methods": METHODS,
            "user_method": organization.cost_basis_method, **extra}


@login_required
@require_GET
def tax_report_page(request):
    _require_books(request.user)
    return render(request, "reporting/tax_reports.html", _context(request))


@login_required
@require_POST
def tax_report_generate_form(request):
    """The form's hx-post: a new row on top, or the form again with the error."""
    if not permissions.can_work_books(request.user):
        raise PermissionDenied("Tax reports are for accountants, managers and admins.")
    data = request.POST
    error, status = "", 200
    try:
        year = data.get("year", "").strip()
        tax_report_request(
            actor=request.user, report_type=data.get("report_type", ""), method=data.get("method") or None,
            anchor=_date(data.get("date", "")), year=int(year) if year.isdigit() else None,
            start=_date(data.get("start_date", "")), end=_date(data.get("end_date", "")),
        )
    except DomainError as exc:
        error, status = exc.message, http_status_of(exc)
    return render(request, "reporting/_tax_reports_panel.html", _context(request, error=error, form=data),
                  status=status)


@login_required
@require_GET
def tax_report_row(request, report_id):
    _require_books(request.user)
    report = tax_report_list(request.user).filter(pk=report_id).prefetch_related("user").first()
    if report is None:
        raise Http404
    return render(request, "reporting/_tax_report_row.html", {"report": report})


# =====================================================================================================
# Financial statements pages (the organization's books): a day or period picker whose hx-get swaps
# the statement table and its chart data, a comparison column, and a save button that stores the
# statement (POST) and links to its Excel and PDF.
# =====================================================================================================

STATEMENT_PAGES = {"balance-sheet": StatementKind.BALANCE_SHEET, "income-statement": StatementKind.INCOME_STATEMENT,
                   "cash-flow": StatementKind.CASH_FLOW}
STATEMENT_RECENT_ROWS = 10


def _statement_request(kind: str, data, organization):
    """The picker's fields as a cleaned request (reporting.services.statement_request_clean):
    balance sheet `as_of` and `compare_as_of`; periods `start_date`, `end_date`, `compare_start`,
    `compare_end`; `no_compare` drops the comparison; empty fields take the defaults."""
    today = organization_today(organization)  # the organization's calendar, not the server's
    no_compare = bool(data.get("no_compare"))
    if kind == StatementKind.BALANCE_SHEET:
        other = _date(data.get("compare_as_of", "").strip())
        compare = [] if no_compare else ([other] if other else None)
        return statement_request_clean(kind=kind, as_of=_date(data.get("as_of", "").strip()) or today, compare=compare)
    start = _date(data.get("start_date", "").strip()) or today.replace(day=1)
    end = _date(data.get("end_date", "").strip()) or today
    first, last = _date(data.get("compare_start", "").strip()), _date(data.get("compare_end", "").strip())
    if (first is None) != (last is None):
        raise InvalidInput(ErrorCode.INVALID_PERIOD, "A comparison period needs both its start and its end.")
    compare = [] if no_compare else ([(first, last)] if first else None)
    return statement_request_clean(kind=kind, start=start, end=end, compare=compare,
                                   include_fair_value=data.get("fair_value", "on") != "off")


def _statement_context(request, kind: str, slug: str) -> dict:
    context = {"kind": kind, "slug": slug, "title": TITLES[kind], "query": request.GET, "error": "",
               "recent": list(financial_statement_list(request.user, kind=kind)[:STATEMENT_RECENT_ROWS])}
    try:
        statement_request = _statement_request(kind, request.GET, request.user.organization)
        data = statement_as_json(financial_statement_compute(actor=request.user, request=statement_request))
    except DomainError as exc:
        context["error"] = exc.message
        return context
    context.update(picked=statement_request, data=data, rows=statement_rows(data),
                   chart=statement_chart_data(data), columns=data["columns"],
                   save_fields=_save_fields(statement_request),
                   unpriced=[(column["label"], names) for column, names in zip(data["columns"], data["unpriced"])
                             if names])
    return context


def _save_fields(picked) -> dict:
    """What the save button posts back: exactly the statement on screen."""
    if picked.kind == StatementKind.BALANCE_SHEET:
        fields = {"as_of": picked.as_of.isoformat()}
        if picked.compare_dates:
            fields["compare_as_of"] = picked.compare_dates[0].isoformat()
    else:
        fields = {"start_date": picked.start.isoformat(), "end_date": picked.end.isoformat()}
        if picked.kind == StatementKind.INCOME_STATEMENT:
            fields["fair_value"] = "on" if picked.include_fair_value else "off"
        if picked.compare_periods:
            fields["compare_start"], fields["compare_end"] = (day.isoformat() for day in picked.compare_periods[0])
    if not (picked.compare_dates or picked.compare_periods):
        fields["no_compare"] = "1"
    return fields


@login_required
@require_GET
def statement_page(request, slug: str):
    kind = STATEMENT_PAGES.get(slug)
    if kind is None:
        raise Http404
    _require_books(request.user)
    context = _statement_context(request, kind, slug)
    # The picker asks with hx-get for the panel alone (table, chart data, save button).
    template = "reporting/_statement_panel.html" if request.htmx else "reporting/statements.html"
    return render(request, template, context)


@login_required
@require_POST
def statement_save(request, slug: str):
    kind = STATEMENT_PAGES.get(slug)
    if kind is None:
        raise Http404
    if not permissions.can_work_books(request.user):
        raise PermissionDenied("Financial statements are for accountants, managers and admins.")
    try:
        cleaned = _statement_request(kind, request.POST, request.user.organization)
        stored = financial_statement_create(
            actor=request.user, kind=kind, as_of=cleaned.as_of, start=cleaned.start, end=cleaned.end,
            compare=list(cleaned.compare_dates) if kind == StatementKind.BALANCE_SHEET else list(cleaned.compare_periods),
            include_fair_value=cleaned.include_fair_value)
    except DomainError as exc:
        # htmx swaps only 2xx answers: the error is shown in place, a plain form post gets the status.
        return render(request, "reporting/_statement_saved.html", {"error": exc.message},
                      status=200 if request.htmx else http_status_of(exc))
    return render(request, "reporting/_statement_saved.html", {"stored": stored})
