"""/api/ai/audit-contract/, upload-contract/, audits/, audits/{id}/, audit-statistics/ (thin).

Who: every member of the organization reads its audits (core.permissions.can_view_audits); running
one is for accountants, managers and admins (can_run_audits). Another organization's audit id is 404.

An audit runs as a tracked task: the POSTs answer 202 with the audit and its `task_run_id`; poll
`GET /api/ai/audits/{id}/` until `status` is COMPLETED or FAILED. `GET /api/ai/audits/{id}/?compare_to=<id>`
adds the comparison with another audit (findings fixed / new / unchanged). The PDF report is the
back-office page `/app/audits/{id}/pdf/`.
"""

from datetime import datetime
from decimal import Decimal

from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from ai_audit.audits import findings as findings_module
from ai_audit.audits import selectors, services
from core.jsonapi.auth import api_auth
from core.jsonapi.pagination import LimitOffsetNoCount
from core.jsonapi.schemas import StrictSchema
from core.jsonapi.types import ObjectIdStr

ai_router = Router(tags=["audits"])


class ScoreLineOut(Schema):
    reason: str
    points: Decimal


class FindingOut(Schema):
    detector: str
    severity: str = Field(description="high, medium, low, informational or optimization (slither's impact)")
    confidence: str = Field(description="high, medium or low")
    description: str
    file: str
    lines: list[int]
    contract: str
    function: str
    fingerprint: str = Field(description="what the finding is about, stable across audits (comparisons)")


class ExcerptLineOut(Schema):
    line: int
    text: str
    flagged: bool


class FindingDetailOut(FindingOut):
    excerpt: list[ExcerptLineOut]


class ModelOutput(Schema):
    """Text written by the optional language model (LLM_BASE_URL): advice, not analysis."""
    is_model_output: bool = True
    model: str
    summary: str
    suggested_fixes: list[dict[str, str]]


class AuditOut(Schema):
    id: ObjectIdStr
    source_kind: str
    contract_id: str
    contract_address: str
    network: str
    contract_name: str
    file_name: str
    compiler_version: str
    status: str
    task_run_id: ObjectIdStr | None
    risk_score: int | None
    risk_label: str
    findings_by_severity: dict[str, int]
    signals: list[str]
    analyzer_version: str
    duration_ms: int | None
    error: str
    created_at: datetime
    completed_at: datetime | None

    @staticmethod
    def resolve_findings_by_severity(obj):
        return findings_module.counts_by_severity(obj.findings)


class HistoryOut(Schema):
    id: ObjectIdStr
    created_at: datetime
    status: str
    risk_score: int | None
    risk_label: str


class ComparisonOut(Schema):
    before_id: ObjectIdStr
    after_id: ObjectIdStr
    fixed: list[FindingOut]
    new: list[FindingOut]
    unchanged: list[FindingOut]


class AuditDetailOut(AuditOut):
    findings: list[FindingDetailOut]
    score_breakdown: list[ScoreLineOut]
    analysed_contracts: list[str]
    model_output: ModelOutput | None
    model_error: str
    history: list[HistoryOut]
    comparison: ComparisonOut | None = None

    @staticmethod
    def resolve_findings(obj):
        return [{**finding, "excerpt": [{"line": n, "text": text, "flagged": flagged} for n, text, flagged in
                                        findings_module.excerpt(obj.sources, finding["file"], finding["lines"])]}
                for finding in sorted(obj.findings, key=findings_module.sort_key)]

    @staticmethod
    def resolve_model_output(obj):
        if not obj.llm_summary:
            return None
        return {"model": obj.llm_model, "summary": obj.llm_summary, "suggested_fixes": obj.llm_fixes}

    @staticmethod
    def resolve_model_error(obj):
        return obj.llm_error


class AuditContractIn(StrictSchema):
    address: str = Field(max_length=42, description="a registered contract of the organization with a verified source")
    network: str | None = Field(None, max_length=40, description="needed when the address is on several networks")


class AuditFilters(Schema):
    network: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=42)
    status: str | None = Field(None, max_length=16, description="QUEUED, RUNNING, COMPLETED or FAILED")
    label: str | None = Field(None, max_length=16, description="risk label: low, medium, high or critical")


class SeverityCount(Schema):
    detector: str
    severity: str
    count: int


class Bucket(Schema):
    range: str
    count: int


class Month(Schema):
    month: str
    audits: int
    average_score: Decimal


class StatisticsOut(Schema):
    audits: int
    by_severity: dict[str, int]
    by_detector: list[SeverityCount]
    by_label: dict[str, int]
    score_distribution: list[Bucket]
    over_time: list[Month]


def _detail(request, audit, compare_to: str | None = None):
    audit.history = selectors.audit_history_for(request.user, audit)
    audit.comparison = None
    if compare_to:
        comparison = selectors.audit_compare_for(request.user, compare_to, audit.pk)
        audit.comparison = {"before_id": comparison["before"].pk, "after_id": comparison["after"].pk,
                            "fixed": comparison["fixed"], "new": comparison["new"], "unchanged": comparison["unchanged"]}
    return audit


@ai_router.post("/audit-contract/", response={202: AuditOut}, auth=api_auth,
                summary="Audit a registered, verified contract (static analysis; a tracked task)")
def audit_contract(request, payload: AuditContractIn):
    return Status(202, services.audit_contract_request(actor=request.user, address=payload.address,
                                                       network=payload.network or None))


@ai_router.post("/upload-contract/", response={202: AuditOut}, auth=api_auth,
                summary="Upload a .sol file or a standard-JSON input for audit (size-limited, never executed)")
def upload_contract(request, file: UploadedFile = File(..., description="a .sol file or a standard-JSON input (.json)"),
                    compiler_version: str | None = Form(None, max_length=40,
                                                        description="e.g. 0.8.30; empty: the newest installed the pragma accepts"),
                    contract_name: str = Form("", max_length=200),
                    address: str | None = Form(None, max_length=42, description="a registered contract this source is for"),
                    network: str | None = Form(None, max_length=40)):
    content = file.read(services.max_upload_bytes() + 1)
    return Status(202, services.audit_upload_request(
        actor=request.user, file_name=file.name or "", content=content, compiler_version=compiler_version or None,
        contract_name=contract_name, address=address or None, network=network or None))


@ai_router.get("/audits/", response=list[AuditOut], auth=api_auth, summary="The organization's contract audits")
@paginate(LimitOffsetNoCount)
def audit_list(request, filters: Query[AuditFilters]):
    return selectors.audit_list_for(request.user, **filters.dict())


@ai_router.get("/audits/{oid:audit_id}/", response=AuditDetailOut, auth=api_auth,
               summary="An audit: findings by severity with code excerpts, the score and how it was made, history")
def audit_detail(request, audit_id: str,
                 compare_to: ObjectIdStr | None = Query(None, description="another audit's id: adds fixed/new/unchanged")):
    return _detail(request, selectors.audit_get_for(request.user, audit_id), compare_to)


@ai_router.get("/audit-statistics/", response=StatisticsOut, auth=api_auth,
               summary="Findings by severity and detector, score distribution, audits over time")
def audit_statistics(request):
    return selectors.audit_statistics_for(request.user)
