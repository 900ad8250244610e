"""Back-office pages of audits under /app/audits/: the list (with an upload form for those who run
audits and the statistics), an audit's report (score and how it was made, findings grouped by
severity with code excerpts, the model's summary marked as such, the contract's history with
compare links), its PDF, and the comparison of two audits.

Who: every member reads (core.permissions.can_view_audits); uploading is for can_run_audits (the
service checks again). Another organization's audit is 404; a service's refusal is shown as its message.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ai_audit.audits import findings as findings_module
from ai_audit.audits import scoring, selectors, services
from ai_audit.models import AuditStatus
from core import permissions
from core.errors import DomainError, NotFound

PAGE_ROWS = 50


def _require_view(request) -> None:
    if not permissions.can_view_audits(request.user):
        raise PermissionDenied("Members of an organization see its audits.")


def _audit(request, audit_id):
    try:
        return selectors.audit_get_for(request.user, audit_id)
    except NotFound:
        raise Http404("No such audit.") from None


@login_required
@require_GET
def audit_list_page(request):
    _require_view(request)
    audits = list(selectors.audit_list_for(request.user)[:PAGE_ROWS])
    for audit in audits:
        audit.severity_counts = findings_module.counts_by_severity(audit.findings)
    return render(request, "ai_audit/audits/audit_list.html", {
        "audits": audits, "statistics": selectors.audit_statistics_for(request.user),
        "can_run": permissions.can_run_audits(request.user), "max_kib": services.max_upload_bytes() // 1024})


@login_required
@require_POST
def audit_upload_action(request):
    if not permissions.can_run_audits(request.user):
        raise PermissionDenied("Only accountants, managers and admins may run contract audits.")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a .sol file or a standard-JSON input to upload.")
        return redirect("audit-list")
    try:
        audit = services.audit_upload_request(
            actor=request.user, file_name=upload.name, content=upload.read(services.max_upload_bytes() + 1),
            compiler_version=request.POST.get("compiler_version") or None,
            contract_name=request.POST.get("contract_name", "")[:200])
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("audit-list")
    return redirect("audit-detail", audit_id=audit.pk)


@login_required
@require_GET
def audit_detail_page(request, audit_id):
    _require_view(request)
    audit = _audit(request, audit_id)
    context = services.report_context(audit)
    context.update(history=selectors.audit_history_for(request.user, audit),
                   completed=audit.status == AuditStatus.COMPLETED, scoring=scoring)
    return render(request, "ai_audit/audits/audit_detail.html", context)


@login_required
@require_GET
def audit_pdf_download(request, audit_id):
    _require_view(request)
    audit = _audit(request, audit_id)
    try:
        pdf = services.audit_pdf(audit)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("audit-detail", audit_id=audit.pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{services.pdf_filename(audit)}"'
    return response


@login_required
@require_GET
def audit_compare_page(request):
    _require_view(request)
    before, after = request.GET.get("before", ""), request.GET.get("after", "")
    if not before or not after:
        return render(request, "ai_audit/audits/audit_compare.html", {"choose": True})
    try:
        comparison = selectors.audit_compare_for(request.user, before, after)
    except NotFound:
        raise Http404("No such audit.") from None
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("audit-list")
    return render(request, "ai_audit/audits/audit_compare.html", comparison)
