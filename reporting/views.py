"""Back-office pages of reporting: the user's tax reports with a generate form; rows of reports still
generating poll themselves (HTMX) until they are completed or failed."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from core.jsonapi.errors import ApiError
from ledger.cost_basis import METHODS
from reporting.models import TaxReport, TaxReportType
from reporting.services import tax_report_request

PAGE_ROWS = 50


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise ApiError(422, "invalid_date", f"Not a date (YYYY-MM-DD): {value[:20]!r}") from None


def _context(request, **extra) -> dict:
    return {"reports": list(TaxReport.objects.filter(user=request.user).order_by("-created_at", "-id")[:PAGE_ROWS]),
            "report_types": TaxReportType.choices, "methods": METHODS, "user_method": request.user.cost_basis_method,
            **extra}


@login_required
@require_GET
def tax_report_page(request):
    return render(request, "reporting/tax_reports.html", _context(request))


@login_required
@require_POST
def tax_report_generate_form(request):
    """The form's hx-post: a new row on top, or the form again with the error."""
    data = request.POST
    error = ""
    try:
        year = data.get("year", "").strip()
        tax_report_request(
            user=request.user, report_type=data.get("report_type", ""), method=data.get("method") or None,
            anchor=_date(data.get("date", "")), year=int(year) if year.isdigit() else None,
            start=_date(data.get("start_date", "")), end=_date(data.get("end_date", "")),
        )
    except ApiError as exc:
        error = exc.message
    return render(request, "reporting/_tax_reports_panel.html", _context(request, error=error, form=data),
                  status=422 if error else 200)


@login_required
@require_GET
def tax_report_row(request, report_id):
    report = TaxReport.objects.filter(user=request.user, pk=report_id).first()
    if report is None:
        raise Http404
    return render(request, "reporting/_tax_report_row.html", {"report": report})
