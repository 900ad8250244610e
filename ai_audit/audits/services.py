"""Audits: requesting one (a registered, verified contract, or an uploaded source), running it (the
tracked task calls `audit_execute`), the optional model summary, and the PDF report.

The source is never executed: it is compiled by solc-js and read by slither (analyzer.py).
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.template.loader import render_to_string

from ai_audit.audits import analyzer, findings as findings_module, scoring
from ai_audit.audits.tasks import audit_run
from ai_audit.contracts.selectors import contract_get_for
from ai_audit.contracts.solc import normalize_version, solc_versions
from ai_audit.models import Audit, AuditSource, AuditStatus
from core import permissions
from core.errors import Conflict, ErrorCode, InvalidInput, NotFound, TooLarge, Unavailable
from core.models import Organization

DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024
MAX_SOURCES = 200
# Compiler settings an uploaded standard-JSON input may carry into the analysis (nothing that reads
# files or changes outputs slither needs).
KEPT_SETTINGS = ("remappings", "optimizer", "evmVersion", "viaIR", "libraries", "metadata")


def max_upload_bytes() -> int:
    return int(getattr(settings, "AUDIT_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def _require_run(actor) -> None:
    permissions.require(permissions.can_run_audits(actor),
                        "Only accountants, managers and admins may run contract audits.")
    if not analyzer.analyzer_available():
        raise Unavailable(ErrorCode.ANALYZER_UNAVAILABLE,
                          "Slither is not installed: run scripts/install-slither.sh (make run does).")


def _kept_settings(raw) -> dict:
    if not isinstance(raw, dict):
        return {}
    return {key: raw[key] for key in KEPT_SETTINGS if key in raw}


def _looks_like_solidity(text: str) -> bool:
    stripped = findings_module.strip_comments(text)
    return bool(findings_module.PRAGMA.search(stripped)) or any(
        f"{keyword} " in stripped for keyword in ("contract", "library", "interface", "abstract contract"))


def _sources_from_standard_json(data) -> tuple[dict, dict]:
    if not isinstance(data, dict) or data.get("language", "Solidity") != "Solidity":
        raise InvalidInput(ErrorCode.NOT_SOLIDITY, "The JSON is not a Solidity standard-JSON input (language Solidity).",
                           {"field": "file"})
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, dict) or not raw_sources:
        raise InvalidInput(ErrorCode.NOT_SOLIDITY, "The standard-JSON input has no sources.", {"field": "file"})
    if len(raw_sources) > MAX_SOURCES:
        raise InvalidInput(ErrorCode.INVALID_SOURCE, f"More than {MAX_SOURCES} source files.", {"field": "file"})
    sources = {}
    for path, entry in raw_sources.items():
        analyzer.safe_source_path(str(path))
        content = entry.get("content") if isinstance(entry, dict) else None
        if not isinstance(content, str):
            raise InvalidInput(ErrorCode.INVALID_SOURCE, f"Source {str(path)[:100]!r} has no inline content "
                               "(only \"content\" is accepted, never \"urls\").", {"field": "file", "path": str(path)[:300]})
        sources[str(path)] = content
    if not any(_looks_like_solidity(text) for text in sources.values()):
        raise InvalidInput(ErrorCode.NOT_SOLIDITY, "No source of the input looks like Solidity.", {"field": "file"})
    return sources, _kept_settings(data.get("settings"))


def _choose_compiler(sources: dict, requested: str | None) -> str:
    if requested:
        return normalize_version(requested)
    chosen = findings_module.pick_compiler(sources, solc_versions())
    if chosen is None:
        pragmas = sorted({p for text in sources.values() for p in findings_module.pragmas(text)})
        raise InvalidInput(ErrorCode.UNSUPPORTED_COMPILER,
                           f"No installed compiler satisfies the pragma ({', '.join(pragmas)}); installed: "
                           f"{', '.join(solc_versions())}.", {"field": "compiler_version", "supported": solc_versions()})
    return chosen


def _registered_contract(actor, address: str, network: str | None):
    """The organization's registered contract named in a request body. An address that is not in the
    registry (unknown, on another network, or another organization's) is an invalid input naming the
    field, the same answer in every case."""
    try:
        return contract_get_for(actor=actor, address=address, network=network)
    except NotFound:
        raise InvalidInput(ErrorCode.CONTRACT_NOT_REGISTERED,
                           "No contract with this address is registered for your organization"
                           + (f" on {network}." if network else ".") + " Register it first (POST /api/contracts/).",
                           {"field": "address"}) from None


def _enqueue(audit: Audit, actor) -> Audit:
    task_run = audit_run.enqueue(str(audit.pk), triggered_by=actor, organization_id=str(audit.organization_id))
    Audit.objects.filter(pk=audit.pk).update(task_run=task_run)
    audit.refresh_from_db()
    return audit


def audit_contract_request(*, actor, address: str, network: str | None = None) -> Audit:
    """Audit a registered contract of the actor's organization whose source is verified."""
    _require_run(actor)
    contract = _registered_contract(actor, address, network)
    if not contract.is_verified or not contract.source_standard_json:
        raise Conflict(ErrorCode.CONTRACT_NOT_VERIFIED,
                       f"{contract.name} on {contract.network} has no verified source; verify it first "
                       f"(POST /api/contracts/{contract.address}/verify/) or upload its source with upload-contract.",
                       {"address": contract.address, "network": contract.network})
    sources, compiler_settings = _sources_from_standard_json(contract.source_standard_json)
    audit = Audit.objects.create(
        organization_id=actor.organization_id, source_kind=AuditSource.CONTRACT, contract_id=str(contract.pk),
        contract_address=contract.address, network=contract.network, contract_name=contract.name,
        compiler_version=normalize_version(contract.compiler_version), sources=sources,
        compiler_settings=compiler_settings, requested_by=actor)
    return _enqueue(audit, actor)


def audit_upload_request(*, actor, file_name: str, content: bytes, compiler_version: str | None = None,
                         contract_name: str = "", address: str | None = None, network: str | None = None) -> Audit:
    """Audit an uploaded `.sol` file or standard-JSON input (size-limited; compiled and analysed, never
    run). Naming a registered contract (address, network) files the audit in its history; its source
    then counts as unverified unless the contract is verified."""
    _require_run(actor)
    if len(content) > max_upload_bytes():
        raise TooLarge(ErrorCode.UPLOAD_TOO_LARGE, f"The file is larger than {max_upload_bytes() // 1024} KiB.",
                       {"field": "file", "max_bytes": max_upload_bytes()})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(ErrorCode.NOT_SOLIDITY, "The file is not UTF-8 text.", {"field": "file"}) from None
    name = (file_name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "Contract.sol"
    if name.lower().endswith(".json") or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise InvalidInput(ErrorCode.NOT_SOLIDITY, "The file is neither Solidity nor valid JSON.",
                               {"field": "file"}) from None
        sources, compiler_settings = _sources_from_standard_json(data)
        kind = AuditSource.UPLOAD_JSON
    else:
        if not name.lower().endswith(".sol") or not _looks_like_solidity(text):
            raise InvalidInput(ErrorCode.NOT_SOLIDITY, "Upload a Solidity source (.sol) or a standard-JSON input (.json).",
                               {"field": "file"})
        path = re.sub(r"[^A-Za-z0-9._@+~-]", "_", name).lstrip(".") or "Contract.sol"
        sources, compiler_settings, kind = {analyzer.safe_source_path(path).name: text}, {}, AuditSource.UPLOAD_SOL
    version = _choose_compiler(sources, compiler_version)
    contract = _registered_contract(actor, address, network) if address else None
    audit = Audit.objects.create(
        organization_id=actor.organization_id, source_kind=kind, file_name=name,
        contract_id=str(contract.pk) if contract else "", contract_address=contract.address if contract else "",
        network=contract.network if contract else "",
        contract_name=(contract_name or (contract.name if contract else "") or name.rsplit(".", 1)[0])[:200],
        compiler_version=version, sources=sources, compiler_settings=compiler_settings, requested_by=actor,
        signals=["unverified_source"] if contract is not None and not contract.is_verified else [])
    return _enqueue(audit, actor)


# --- the report -----------------------------------------------------------------------------------

def report_context(audit: Audit) -> dict:
    groups = []
    for severity, items in findings_module.group_by_severity(audit.findings):
        groups.append((severity, [dict(f, excerpt=findings_module.excerpt(audit.sources, f["file"], f["lines"]))
                                  for f in items]))
    return {"audit": audit, "groups": groups, "counts": findings_module.counts_by_severity(audit.findings),
            "breakdown": audit.score_breakdown, "weights": scoring, "signals": [
                (name, scoring.SIGNAL_TEXT.get(name, name)) for name in audit.signals]}


def audit_require_finished(audit: Audit) -> None:
    if audit.status != AuditStatus.COMPLETED:
        raise Conflict(ErrorCode.AUDIT_NOT_FINISHED, f"The audit is {audit.get_status_display().lower()}; "
                       "its report exists once it has completed.", {"status": audit.status})


def audit_pdf(audit: Audit) -> bytes:
    from weasyprint import HTML  # on use: ~1.3 s to import, paid by every process otherwise

    audit_require_finished(audit)
    context = report_context(audit)
    context["organization"] = Organization.objects.get(pk=audit.organization_id)
    html = render_to_string("ai_audit/audits/audit_pdf.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def pdf_filename(audit: Audit) -> str:
    return f"audit-{audit.pk}.pdf"
