"""Running an audit (the tracked task's body) and the optional model summary of its findings."""

from __future__ import annotations

import logging

from django.utils import timezone

from ai_audit.audits import analyzer, scoring
from ai_audit.models import Audit, AuditStatus
from core import llm
from core.errors import DomainError

logger = logging.getLogger(__name__)


def audit_execute(*, audit_id: str, reporter=None) -> dict:
    """Run the analysis of a queued audit (the tracked task's body). Exactly once: only a QUEUED audit
    is taken. A compile error, an analyser failure or time-out marks the audit FAILED (with the
    reason) and is raised again so the task run records it too."""
    changes = {"status": AuditStatus.RUNNING}
    if reporter is not None:
        changes["task_run_id"] = reporter.task_run_id
    taken = Audit.objects.filter(pk=audit_id, status=AuditStatus.QUEUED).update(**changes)
    if not taken:
        return {"audit_id": audit_id, "skipped": "not queued"}
    audit = Audit.objects.get(pk=audit_id)
    if reporter:
        reporter.progress(10, f"compiling with solc {audit.compiler_version} and running slither")
    try:
        analysis = analyzer.analyse(audit.sources, audit.compiler_settings, audit.compiler_version)
    except Exception as error:
        message = error.message if isinstance(error, DomainError) else f"Internal error: {type(error).__name__}."
        Audit.objects.filter(pk=audit.pk).update(status=AuditStatus.FAILED, error=message[:4000],
                                                 completed_at=timezone.now())
        raise
    signals = sorted(set(audit.signals) | set(analysis.signals))
    result = scoring.risk_score([scoring.ScoredFinding(f["detector"], f["severity"], f["confidence"])
                                 for f in analysis.findings], signals)
    audit.findings, audit.signals, audit.analysed_contracts = analysis.findings, signals, analysis.contracts
    audit.risk_score, audit.risk_label = result.score, result.label
    audit.score_breakdown = result.as_dict()["lines"]
    audit.analyzer_version, audit.duration_ms = f"slither {analysis.analyzer_version}", analysis.duration_ms
    if reporter:
        reporter.progress(80, f"{len(analysis.findings)} findings, risk {result.score} ({result.label})")
    if llm.llm_configured():
        audit_llm_explain(audit)
    audit.status, audit.completed_at = AuditStatus.COMPLETED, timezone.now()
    audit.save()
    return {"audit_id": str(audit.pk), "findings": len(audit.findings), "risk_score": audit.risk_score,
            "risk_label": audit.risk_label, "duration_ms": audit.duration_ms}


# --- the optional model ------------------------------------------------------------------------------

LLM_SYSTEM = (
    "You are a smart-contract security reviewer. You receive the findings of the static analyser slither "
    "for a Solidity contract. Answer with one JSON object only: {\"summary\": a plain-language summary of "
    "the risks for a non-programmer (at most 120 words), \"fixes\": [{\"detector\": one of the detector names "
    "given, \"suggestion\": how to fix it in at most 60 words}]}. Do not invent findings."
)
MAX_LLM_FINDINGS = 20
MAX_SUMMARY_CHARS = 2000
MAX_SUGGESTION_CHARS = 600


def _llm_prompt(audit: Audit) -> str:
    lines = [f"Contract: {audit.contract_name or audit.file_name}; risk score {audit.risk_score} ({audit.risk_label})."]
    for finding in audit.findings[:MAX_LLM_FINDINGS]:
        lines.append(f"- {finding['detector']} [{finding['severity']}, confidence {finding['confidence']}]: "
                     f"{finding['description'][:400]}")
    if not audit.findings:
        lines.append("- no findings")
    return "\n".join(lines)[: llm.MAX_PROMPT_CHARS - len(LLM_SYSTEM) - 10]


def audit_llm_explain(audit: Audit) -> None:
    """Fill the audit's model summary and suggested fixes (not saved here); on any failure the audit
    keeps none and says why in `llm_error`."""
    audit.llm_summary, audit.llm_fixes, audit.llm_model, audit.llm_error = "", [], "", ""
    try:
        answer = llm.chat_completion(system=LLM_SYSTEM, user=_llm_prompt(audit), max_tokens=700, json_answer=True)
        data = llm.parse_json_object(answer.text)
        summary = data.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            raise llm.LlmUnavailable("the model's answer has no summary")
        detectors = {f["detector"] for f in audit.findings}
        fixes = []
        for item in data.get("fixes") or []:
            if (isinstance(item, dict) and item.get("detector") in detectors
                    and isinstance(item.get("suggestion"), str) and item["suggestion"].strip()):
                fixes.append({"detector": item["detector"], "suggestion": item["suggestion"].strip()[:MAX_SUGGESTION_CHARS]})
    except llm.LlmUnavailable as error:
        audit.llm_error = str(error)[:300]
        logger.info("audit %s: no model summary (%s)", audit.pk, error)
        return
    audit.llm_summary, audit.llm_fixes, audit.llm_model = summary.strip()[:MAX_SUMMARY_CHARS], fixes[:50], answer.model


