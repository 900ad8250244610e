"""Reads of audits: lists, one audit, the history of a contract, and the statistics."""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from ai_audit.audits import findings as findings_module
from ai_audit.audits import scoring
from ai_audit.models import Audit, AuditStatus
from core import permissions
from core.errors import Conflict, ErrorCode
from core.jsonapi.objects import get_object_or_404

LIST_FIELDS = ("id", "organization_id", "source_kind", "contract_id", "contract_address", "network", "contract_name",
               "file_name", "compiler_version", "status", "task_run_id", "risk_score", "risk_label", "signals",
               "analyzer_version", "duration_ms", "error", "llm_model", "requested_by_id", "created_at",
               "completed_at", "findings")


def audit_list_for(actor, *, network: str | None = None, address: str | None = None, status: str | None = None,
                   label: str | None = None):
    """The organization's audits, newest first (the sources are left out of lists)."""
    permissions.require(permissions.can_view_audits(actor), "Members of an organization see its audits.")
    queryset = Audit.objects.for_actor(actor).only(*LIST_FIELDS)
    if network:
        queryset = queryset.filter(network=network)
    if address:
        queryset = queryset.filter(contract_address__iexact=address)
    if status:
        queryset = queryset.filter(status=status)
    if label:
        queryset = queryset.filter(risk_label=label)
    return queryset.order_by("-created_at")


def audit_get_for(actor, audit_id) -> Audit:
    permissions.require(permissions.can_view_audits(actor), "Members of an organization see its audits.")
    return get_object_or_404(Audit.objects.for_actor(actor), audit_id)


def audit_history_for(actor, audit: Audit, *, limit: int = 50) -> list[Audit]:
    """Every audit of the same contract (same network and address; for uploads without an address,
    the same file name), newest first."""
    queryset = Audit.objects.for_actor(actor).only(*LIST_FIELDS)
    if audit.contract_address:
        queryset = queryset.filter(network=audit.network, contract_address=audit.contract_address)
    else:
        queryset = queryset.filter(contract_address="", file_name=audit.file_name)
    return list(queryset.order_by("-created_at")[:limit])


def audit_compare_for(actor, before_id, after_id) -> dict:
    """Findings fixed, new and unchanged from one audit of the organization to another (both completed)."""
    before, after = audit_get_for(actor, before_id), audit_get_for(actor, after_id)
    for audit in (before, after):
        if audit.status != AuditStatus.COMPLETED:
            raise Conflict(ErrorCode.AUDIT_NOT_FINISHED, "Only completed audits can be compared.",
                           {"audit_id": str(audit.pk), "status": audit.status})
    if before.created_at > after.created_at:
        before, after = after, before
    return {"before": before, "after": after, **findings_module.compare(before.findings, after.findings)}


def _bucket(score: int) -> str:
    low = min(score // 10 * 10, 90)
    return f"{low}-{low + 9 if low < 90 else 100}"


def audit_statistics_for(actor) -> dict:
    """Counts by severity and detector, the score distribution and audits per month, over the
    organization's completed audits (one query)."""
    permissions.require(permissions.can_view_audits(actor), "Members of an organization see its audits.")
    rows = Audit.objects.for_actor(actor).filter(status=AuditStatus.COMPLETED).values_list(
        "findings", "risk_score", "risk_label", "created_at")
    by_severity: Counter = Counter()
    by_detector: dict[str, dict] = {}
    labels: Counter = Counter()
    buckets: Counter = Counter()
    months: dict[str, list[int]] = {}
    total = 0
    for findings, score, label, created_at in rows:
        total += 1
        for finding in findings or []:
            by_severity[finding["severity"]] += 1
            entry = by_detector.setdefault(finding["detector"], {"detector": finding["detector"],
                                                                 "severity": finding["severity"], "count": 0})
            entry["count"] += 1
        if score is not None:
            labels[label] += 1
            buckets[_bucket(score)] += 1
            months.setdefault(created_at.strftime("%Y-%m"), []).append(score)
    return {
        "audits": total,
        "by_severity": {severity: by_severity.get(severity, 0) for severity in findings_module.SEVERITY_ORDER},
        "by_detector": sorted(by_detector.values(), key=lambda e: (-e["count"], e["detector"])),
        "by_label": {label: labels.get(label, 0) for _, label in reversed(scoring.LABELS)},
        "score_distribution": [{"range": _bucket(low), "count": buckets.get(_bucket(low), 0)} for low in range(0, 100, 10)],
        "over_time": [{"month": month, "audits": len(scores), "average_score": (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)}
                      for month, scores in sorted(months.items())],
    }
