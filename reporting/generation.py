"""The generation of a tax report (the work of reporting.tasks.tax_report_generate_task): the
organization's trades read, lots matched, methods compared, the PDF, XLSX and CSV files written, and
the report finished COMPLETED with its figures or FAILED with the reason; the requesting user is
notified either way.

Each state change is one conditional update of one document, so a report deleted while it was being
generated is not brought back, and a finished report is never overwritten by a late retry. Neither
this module nor the task imports reporting.services (which queues the task): no import loop.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from accounts.models import NotificationPriority, NotificationType
from accounts.notifications import notification_create
from core.money import format_fiat
from core.organizations import organization_today
from ledger.cost_basis import METHODS, InsufficientHoldings, TradeError, compute, disposals_in, totals_by_year
from ledger.tax_trades import tax_trades_for
from reporting import exports
from reporting.models import TaxReport, TaxReportStatus, report_file_path
from reporting.selectors import TaxSummary, tax_summary_for
from reporting.tax_analysis import Analysis, analysis_text, harvestable_losses, turning_long_term
from wallets.selectors import price_book_for

logger = logging.getLogger(__name__)
PREVIEW_ROWS = 200  # disposals kept in the document per part; the files hold them all


def tax_report_generate(*, report_id, organization_id=None, reporter) -> dict:
    """The task's work on the report `report_id` of `organization_id` (the organization its task run
    belongs to; None: whichever the report names). Data problems (selling more than held, a
    malformed trade) fail the report with the engine's message; the exception is raised again so the
    task run fails too."""
    reports = TaxReport.objects.all()
    if organization_id is not None:
        reports = reports.for_organization(organization_id)
    report = reports.filter(pk=report_id).prefetch_related("user", "organization").first()
    if report is None or report.status != TaxReportStatus.GENERATING:
        return {"skipped": "report deleted or already finished"}
    try:
        fields = _generate(report, reporter)
    except (TradeError, InsufficientHoldings) as exc:
        _finish(report, status=TaxReportStatus.FAILED, error=str(exc))
        raise
    except Exception as exc:
        logger.exception("tax report %s failed", report.pk)
        _finish(report, status=TaxReportStatus.FAILED, error=f"internal error: {type(exc).__name__}")
        raise
    _finish(report, status=TaxReportStatus.COMPLETED, **fields)
    return {"report": str(report.pk), "status": TaxReportStatus.COMPLETED, "taxable_events": fields["taxable_events"]}


def _generate(report: TaxReport, reporter) -> dict:
    organization = report.organization
    reporter.progress(5, "reading transactions")
    tax_input = tax_trades_for(organization)
    reporter.log(f"{tax_input.transactions_read} transaction(s) read as {len(tax_input.trades)} trade(s)")
    reporter.progress(30, f"matching lots ({report.method})")
    summary = tax_summary_for(organization, method=report.method, start=report.start_date, end=report.end_date,
                              lot_scope=report.lot_scope, tax_input=tax_input)
    reporter.progress(55, "comparing methods")
    analysis = _analysis(summary, tax_input, organization)
    reporter.progress(75, "writing the PDF, XLSX and CSV files")
    files = {
        "file_path": ("tax-report.pdf", exports.tax_report_pdf(summary)),
        "xlsx_file": ("tax-report.xlsx", exports.tax_report_xlsx(summary)),
        "csv_file": ("disposals.csv", exports.tax_report_csv(summary).encode()),
    }
    stored = {field: default_storage.save(report_file_path(report, name), ContentFile(content))
              for field, (name, content) in files.items()}
    reporter.progress(95, "saving")
    net = summary.total_gains - summary.total_losses
    return {
        "total_proceeds": sum((d.proceeds for d in summary.disposals), Decimal(0)),
        "total_cost_basis": sum((d.cost_basis for d in summary.disposals), Decimal(0)),
        "total_gains": summary.total_gains, "total_losses": summary.total_losses, "net_gain_loss": net,
        "short_term_net": sum((d.gain for d in summary.short_term), Decimal(0)),
        "long_term_net": sum((d.gain for d in summary.long_term), Decimal(0)),
        "total_income": summary.total_income, "total_fees": _fees(summary, tax_input.trades),
        "taxable_events": len(summary.disposals), "disposals_preview": _preview(summary),
        "comparison": _comparison(summary), "analysis": _analysis_json(analysis),
        "ai_analysis": analysis_text(analysis, method=report.method, fiat=summary.fiat, net=net),
        "warnings": summary.warnings[:200], **stored,
    }


def _finish(report: TaxReport, *, status: str, **fields) -> None:
    updated = TaxReport.objects.filter(pk=report.pk, status=TaxReportStatus.GENERATING).update(
        status=status, generated_at=timezone.now(), **fields)
    if not updated:
        return  # deleted meanwhile
    period = f"{report.start_date.isoformat()} to {report.end_date.isoformat()}"
    if status == TaxReportStatus.COMPLETED:
        notification_create(
            user=report.user, type=NotificationType.SYSTEM, priority=NotificationPriority.LOW,
            title="Tax report ready", message=f"Your {report.get_report_type_display().lower()} tax report for {period} "
            f"is ready: net {format_fiat(fields['net_gain_loss'], report.fiat)}.",
            action_url=_page_url(report), action_text="Open tax reports",
            metadata={"tax_report_id": str(report.pk)})
    else:
        notification_create(
            user=report.user, type=NotificationType.SYSTEM, priority=NotificationPriority.HIGH,
            title="Tax report failed", message=f"Your tax report for {period} could not be generated: {fields['error']}",
            action_url=_page_url(report), action_text="Open tax reports",
            metadata={"tax_report_id": str(report.pk)})


def _page_url(report: TaxReport) -> str:
    """The report's row on the back-office tax reports page."""
    return f"{reverse('backoffice-tax-reports')}#tax-report-{report.pk}"


def _fees(summary: TaxSummary, trades) -> Decimal:
    """Fees paid in the period: fiat fees as paid, crypto fees at the value of their fee disposals."""
    fiat_fees = sum((t.fee_amount for t in trades if t.fee_amount and t.fee_asset.upper() == summary.fiat
                     and summary.start <= t.date.date() <= summary.end), Decimal(0))
    crypto_fees = sum((d.proceeds for d in summary.disposals if d.kind == "fee"), Decimal(0))
    return fiat_fees + crypto_fees


def _disposal_json(d) -> dict:
    return {"asset": d.asset, "quantity": str(d.quantity), "date_acquired": str(d.date_acquired),
            "date_disposed": d.date_disposed.isoformat(), "proceeds": str(d.proceeds), "cost_basis": str(d.cost_basis),
            "gain": str(d.gain), "term": d.term, "kind": d.kind, "wallet": d.wallet, "ref": d.ref}


def _preview(summary: TaxSummary) -> dict:
    parts = {"short_term": summary.short_term, "long_term": summary.long_term, "various": summary.various_term}
    return {name: {"count": len(rows), "proceeds": str(sum((d.proceeds for d in rows), Decimal(0))),
                   "cost_basis": str(sum((d.cost_basis for d in rows), Decimal(0))),
                   "gain": str(sum((d.gain for d in rows), Decimal(0))),
                   "rows": [_disposal_json(d) for d in rows[:PREVIEW_ROWS]]}
            for name, rows in parts.items()}


def _comparison(summary: TaxSummary) -> list[dict]:
    """Every year of the whole history (same method), to compare the period with earlier years."""
    return [{"year": t.year, "proceeds": str(t.proceeds), "cost_basis": str(t.cost_basis), "gains": str(t.gains),
             "losses": str(t.losses), "net": str(t.net)}
            for t in totals_by_year(summary.result.disposals, method=summary.method)]


def _analysis(summary: TaxSummary, tax_input, organization) -> Analysis:
    analysis = Analysis()
    for method in METHODS:
        scope = "all" if method == "uk" else summary.lot_scope
        try:
            result = summary.result if method == summary.method else compute(
                tax_input.trades, method=method, fiat=summary.fiat, lot_scope=scope)
        except (TradeError, InsufficientHoldings) as exc:
            analysis.method_errors[method] = str(exc)
            continue
        rows = disposals_in(result, summary.start, summary.end)
        analysis.method_nets[method] = sum((d.gain for d in rows), Decimal(0))
    held = {lot.asset for lot in summary.result.open_lots}
    book = price_book_for(held, fiat=summary.fiat, organization=organization) if held else None
    prices = {asset: price for asset in held if book is not None and (price := book.current(asset)) is not None}
    analysis.harvestable, analysis.unpriced_assets = harvestable_losses(summary.result.open_lots, prices)
    analysis.turning_long = turning_long_term(summary.result.open_lots, prices,
                                              as_of=max(summary.end, organization_today(organization)))
    return analysis


def _analysis_json(analysis: Analysis) -> dict:
    return {
        "harvestable_losses": [{"asset": h.asset, "wallet": h.wallet, "quantity": str(h.quantity), "cost": str(h.cost),
                                "value": str(h.value), "loss": str(h.loss)} for h in analysis.harvestable],
        "harvestable_total": str(analysis.harvestable_total),
        "turning_long_term": [{"asset": t.asset, "wallet": t.wallet, "quantity": str(t.quantity),
                               "acquired": t.acquired.isoformat(), "long_term_from": t.long_term_from.isoformat(),
                               "cost": str(t.cost), "value": None if t.value is None else str(t.value)}
                              for t in analysis.turning_long],
        "method_net_gains": {m: str(v) for m, v in analysis.method_nets.items()},
        "method_errors": analysis.method_errors,
        "unpriced_assets": analysis.unpriced_assets,
    }
