"""/api/tax-reports/: the tax reports of the caller's organization (thin: parses, calls reporting's
services/selectors).

Who: reading (list, detail, files) needs core.permissions.can_view_books, generating and deleting
can_work_books (accountants, managers, admins); a plain member gets 403 everywhere. Every lookup goes
through the organization-scoped queryset (core.tenancy), so another organization's report id is 404.

Generation runs as a task: a POST answers 202 with the report in GENERATING and its task run id;
poll `GET /api/tax-reports/{id}/` (or watch the notification) until COMPLETED or FAILED.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import FileResponse, HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from core import permissions
from core.errors import Conflict, ErrorCode
from core.jsonapi.auth import api_auth
from core.jsonapi.objects import get_object_or_404
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.schemas import StrictSchema
from core.jsonapi.types import FiatAmount, ObjectIdStr
from core.organizations import organization_today
from reporting import services
from reporting.models import TAX_REPORT_FILES, StatementKind, TaxReport, TaxReportStatus, TaxReportType
from reporting.selectors import financial_statement_list, tax_report_list as tax_reports_of
from reporting.services.financial_statements import STATEMENTS_REFUSED
from reporting.services.tax_reports import TAX_REPORTS_REFUSED
from reporting.statement_exports import XLSX_CONTENT_TYPE, statement_pdf as render_pdf, statement_xlsx

tax_reports_router = Router(tags=["tax reports"])

Method = Literal["fifo", "lifo", "hifo", "acb", "uk"]
LotScope = Literal["all", "wallet"]
ReportTypeIn = Literal[tuple(TaxReportType.values)]


class TaxReportOut(Schema):
    id: ObjectIdStr
    report_type: str
    start_date: dt.date
    end_date: dt.date
    tax_year: int | None
    method: str
    lot_scope: str
    fiat: str
    status: str
    error: str
    requested_by: str
    task_run_id: ObjectIdStr | None
    total_proceeds: FiatAmount | None
    total_cost_basis: FiatAmount | None
    total_gains: FiatAmount | None
    total_losses: FiatAmount | None
    net_gain_loss: FiatAmount | None
    short_term_net: FiatAmount | None
    long_term_net: FiatAmount | None
    total_income: FiatAmount | None
    total_fees: FiatAmount | None
    taxable_events: int
    ai_analysis: str
    file_path: str | None
    generated_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_requested_by(obj) -> str:
        return obj.user.get_username()

    @staticmethod
    def resolve_file_path(obj) -> str | None:
        return f"/api/tax-reports/{obj.pk}/pdf/" if obj.file_path else None


class TaxReportDetailOut(TaxReportOut):
    disposals: dict[str, Any] = Field(description="short_term / long_term / various: count, sums and the first rows")
    comparison: list[dict[str, Any]] = Field(description="yearly totals of the whole history (same method)")
    analysis: dict[str, Any]
    warnings: list[str]
    xlsx_url: str | None
    csv_url: str | None

    @staticmethod
    def resolve_disposals(obj) -> dict:
        return obj.disposals_preview

    @staticmethod
    def resolve_xlsx_url(obj) -> str | None:
        return f"/api/tax-reports/{obj.pk}/xlsx/" if obj.xlsx_file else None

    @staticmethod
    def resolve_csv_url(obj) -> str | None:
        return f"/api/tax-reports/{obj.pk}/csv/" if obj.csv_file else None


class PeriodIn(StrictSchema):
    method: Method | None = Field(None, description="default: the organization's cost-basis method")
    lot_scope: LotScope | None = Field(None, description="default: the organization's lot scope")


class AnchoredIn(PeriodIn):
    date: dt.date | None = Field(None, description="a day inside the period (default: today)")


class YearlyIn(PeriodIn):
    year: int | None = Field(None, ge=1970, le=2100, description="calendar year; uk: the tax year starting 6 April")
    date: dt.date | None = None


class CustomIn(PeriodIn):
    start_date: dt.date
    end_date: dt.date


class GenerateIn(PeriodIn):
    report_type: ReportTypeIn
    date: dt.date | None = Field(None, description="DAILY/WEEKLY/MONTHLY/QUARTERLY: a day inside the period")
    year: int | None = Field(None, ge=1970, le=2100, description="ANNUAL")
    start_date: dt.date | None = Field(None, description="CUSTOM")
    end_date: dt.date | None = Field(None, description="CUSTOM")


def _request(request, report_type: str, payload: PeriodIn, **period) -> Status:
    report = services.tax_report_request(actor=request.user, report_type=report_type, method=payload.method,
                                         lot_scope=payload.lot_scope, **period)
    return Status(202, report)


def _require_tax_report_readers(request) -> None:
    permissions.require(permissions.can_view_books(request.user), TAX_REPORTS_REFUSED)


def _report(request, report_id) -> TaxReport:
    _require_tax_report_readers(request)
    return get_object_or_404(tax_reports_of(request.user).prefetch_related("user"), report_id)


@tax_reports_router.get("/", response=list[TaxReportOut], auth=api_auth,
                        summary="List the organization's tax reports")
@paginate(LimitOffsetNoCount)
def tax_report_list(request):
    _require_tax_report_readers(request)
    return tax_reports_of(request.user).prefetch_related("user")  # no join (README)


@tax_reports_router.post("/generate/", response={202: TaxReportOut}, auth=api_auth, summary="Generate a tax report")
def tax_report_generate(request, payload: GenerateIn):
    return _request(request, payload.report_type, payload, anchor=payload.date, year=payload.year,
                    start=payload.start_date, end=payload.end_date)


@tax_reports_router.post("/daily/", response={202: TaxReportOut}, auth=api_auth, summary="Generate a daily report")
def tax_report_daily(request, payload: AnchoredIn):
    return _request(request, TaxReportType.DAILY, payload, anchor=payload.date)


@tax_reports_router.post("/weekly/", response={202: TaxReportOut}, auth=api_auth,
                         summary="Generate a weekly report (ISO week, Monday to Sunday)")
def tax_report_weekly(request, payload: AnchoredIn):
    return _request(request, TaxReportType.WEEKLY, payload, anchor=payload.date)


@tax_reports_router.post("/monthly/", response={202: TaxReportOut}, auth=api_auth, summary="Generate a monthly report")
def tax_report_monthly(request, payload: AnchoredIn):
    return _request(request, TaxReportType.MONTHLY, payload, anchor=payload.date)


@tax_reports_router.post("/quarterly/", response={202: TaxReportOut}, auth=api_auth,
                         summary="Generate a quarterly report (calendar quarter)")
def tax_report_quarterly(request, payload: AnchoredIn):
    return _request(request, TaxReportType.QUARTERLY, payload, anchor=payload.date)


@tax_reports_router.post("/yearly/", response={202: TaxReportOut}, auth=api_auth,
                         summary="Generate a yearly report (calendar year; uk: tax year from 6 April)")
def tax_report_yearly(request, payload: YearlyIn):
    return _request(request, TaxReportType.ANNUAL, payload, anchor=payload.date, year=payload.year)


@tax_reports_router.post("/custom/", response={202: TaxReportOut}, auth=api_auth,
                         summary="Generate a report for a custom period")
def tax_report_custom(request, payload: CustomIn):
    return _request(request, TaxReportType.CUSTOM, payload, start=payload.start_date, end=payload.end_date)


@tax_reports_router.get("/{oid:report_id}/", response=TaxReportDetailOut, auth=api_auth, summary="Tax report details")
def tax_report_detail(request, report_id: str):
    return _report(request, report_id)


@tax_reports_router.delete("/{oid:report_id}/", response={204: None}, auth=api_auth,
                           summary="Delete a tax report and its files")
def tax_report_delete(request, report_id: str):
    services.tax_report_delete(actor=request.user, report=_report(request, report_id))
    return Status(204, None)


def _download(request, report_id: str, kind: str):
    report = _report(request, report_id)
    field, content_type, extension = TAX_REPORT_FILES[kind]
    stored = getattr(report, field)
    if report.status != TaxReportStatus.COMPLETED or not stored:
        raise Conflict(ErrorCode.REPORT_NOT_READY, f"The report is {report.status.lower()}; its files exist once it is "
                                                "completed.", {"status": report.status})
    name = f"tax-report-{report.start_date.isoformat()}-{report.end_date.isoformat()}-{report.method}.{extension}"
    return FileResponse(stored.open("rb"), as_attachment=True, filename=name, content_type=content_type)


@tax_reports_router.get("/{oid:report_id}/pdf/", auth=api_auth, summary="Download the report as PDF",
                        response={200: None})
def tax_report_pdf(request, report_id: str):
    return _download(request, report_id, "pdf")


@tax_reports_router.get("/{oid:report_id}/xlsx/", auth=api_auth, summary="Download the report as Excel",
                        response={200: None})
def tax_report_xlsx(request, report_id: str):
    return _download(request, report_id, "xlsx")


@tax_reports_router.get("/{oid:report_id}/csv/", auth=api_auth, summary="Download the disposals as CSV",
                        response={200: None})
def tax_report_csv(request, report_id: str):
    return _download(request, report_id, "csv")


# =====================================================================================================
# /api/reports/: financial statements (balance sheet, income statement, cash flow) of the caller's
# organization. Reading needs can_view_books, generating and deleting can_work_books; a plain member
# gets 403 on every endpoint; another organization's statement id is 404.
# =====================================================================================================

reports_router = Router(tags=["financial reports"])


class StatementOut(Schema):
    id: ObjectIdStr
    kind: str
    as_of: dt.date | None
    start_date: dt.date | None
    end_date: dt.date | None
    comparison: list[dict[str, str]] = Field(description="the comparison columns: as_of days or start/end periods")
    currency: str
    include_fair_value: bool
    totals: dict[str, str] = Field(description="the main column's totals, exact decimal strings")
    unpriced: list[str] = Field(description="crypto left at cost in the main column (no price or no units)")
    created_by: str
    created_at: dt.datetime
    excel_url: str
    pdf_url: str

    @staticmethod
    def resolve_created_by(obj) -> str:
        return obj.created_by.get_username()

    @staticmethod
    def resolve_excel_url(obj) -> str:
        return f"/api/reports/{obj.pk}/excel/"

    @staticmethod
    def resolve_pdf_url(obj) -> str:
        return f"/api/reports/{obj.pk}/pdf/"


class StatementDetailOut(StatementOut):
    statement: dict[str, Any] = Field(description="columns, sections with lines (amounts per column), totals, "
                                                   "unpriced and notes; amounts as exact decimal strings")


class BalanceSheetIn(StrictSchema):
    as_of: dt.date | None = Field(None, description="default: today")
    compare_dates: list[dt.date] | None = Field(None, description="default: the same day a year before; [] for none")


class ComparisonPeriodIn(StrictSchema):
    start_date: dt.date
    end_date: dt.date


class PeriodStatementIn(StrictSchema):
    start_date: dt.date
    end_date: dt.date
    compare_periods: list[ComparisonPeriodIn] | None = Field(
        None, description="default: the previous period of the same length; [] for none")


class IncomeStatementIn(PeriodStatementIn):
    include_fair_value: bool = Field(True, description="show the change in unrealised fair value below net income")


def _require_statement_readers(request) -> None:
    permissions.require(permissions.can_view_books(request.user), STATEMENTS_REFUSED)


def _periods_in(periods: list[ComparisonPeriodIn] | None):
    return None if periods is None else [(p.start_date, p.end_date) for p in periods]


@reports_router.post("/balance-sheet/", response={201: StatementDetailOut}, auth=api_auth,
                     summary="Generate a balance sheet")
def balance_sheet_generate(request, payload: BalanceSheetIn):
    stored = services.financial_statement_create(actor=request.user, kind=StatementKind.BALANCE_SHEET,
                                                 as_of=payload.as_of or organization_today(request.user.organization),
                                                 compare=payload.compare_dates)
    return Status(201, stored)


@reports_router.post("/income-statement/", response={201: StatementDetailOut}, auth=api_auth,
                     summary="Generate an income statement")
def income_statement_generate(request, payload: IncomeStatementIn):
    stored = services.financial_statement_create(
        actor=request.user, kind=StatementKind.INCOME_STATEMENT, start=payload.start_date, end=payload.end_date,
        compare=_periods_in(payload.compare_periods), include_fair_value=payload.include_fair_value)
    return Status(201, stored)


@reports_router.post("/cash-flow/", response={201: StatementDetailOut}, auth=api_auth,
                     summary="Generate a cash flow statement (indirect method)")
def cash_flow_generate(request, payload: PeriodStatementIn):
    stored = services.financial_statement_create(actor=request.user, kind=StatementKind.CASH_FLOW, start=payload.start_date,
                                                 end=payload.end_date, compare=_periods_in(payload.compare_periods))
    return Status(201, stored)


def _statement_list(request, kind: str):
    _require_statement_readers(request)
    return financial_statement_list(request.user, kind=kind)


@reports_router.get("/balance-sheets/", response=list[StatementOut], auth=api_auth, summary="List balance sheets")
@paginate(LimitOffsetNoCount)
def balance_sheet_list(request):
    return _statement_list(request, StatementKind.BALANCE_SHEET)


@reports_router.get("/income-statements/", response=list[StatementOut], auth=api_auth,
                    summary="List income statements")
@paginate(LimitOffsetNoCount)
def income_statement_list(request):
    return _statement_list(request, StatementKind.INCOME_STATEMENT)


@reports_router.get("/cash-flows/", response=list[StatementOut], auth=api_auth,
                    summary="List cash flow statements")
@paginate(LimitOffsetNoCount)
def cash_flow_list(request):
    return _statement_list(request, StatementKind.CASH_FLOW)


def _statement(request, statement_id: str):
    _require_statement_readers(request)
    return get_object_or_404(financial_statement_list(request.user), statement_id)


@reports_router.get("/{oid:statement_id}/", response=StatementDetailOut, auth=api_auth,
                    summary="Get a stored financial statement")
def statement_detail(request, statement_id: str):
    return _statement(request, statement_id)


@reports_router.delete("/{oid:statement_id}/", response={204: None}, auth=api_auth,
                       summary="Delete a stored financial statement")
def statement_delete(request, statement_id: str):
    services.financial_statement_delete(actor=request.user, statement=_statement(request, statement_id))
    return Status(204, None)


@reports_router.get("/{oid:statement_id}/excel/", auth=api_auth, summary="Export report to Excel",
                    response={200: None})
def statement_excel(request, statement_id: str):
    stored = _statement(request, statement_id)
    response = HttpResponse(statement_xlsx(stored), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{stored.file_stem}.xlsx"'
    return response


@reports_router.get("/{oid:statement_id}/pdf/", auth=api_auth, summary="Export report to PDF", response={200: None})
def statement_pdf(request, statement_id: str):
    stored = _statement(request, statement_id)
    response = HttpResponse(render_pdf(stored), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{stored.file_stem}.pdf"'
    return response
