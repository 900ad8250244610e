"""Known-vulnerable contracts and a clean one through the real audit path (upload -> tracked task ->
slither in its venv -> normalised findings -> risk score): each weakness is found, the clean one
scores low. The detectors expected here are what slither 0.11.6 reports on these sources."""

import pytest

from ai_audit.models import Audit, AuditStatus
from core.models import TaskRun
from tests.ai_audit.audits.conftest import source_of

CASES = {
    # contract: (detectors that must fire, label at least)
    "ReentrancyVault": ({"reentrancy-eth"}, "high"),
    "TxOriginWallet": ({"tx-origin", "arbitrary-send-eth"}, "high"),
    "UncheckedCall": ({"unchecked-lowlevel"}, "medium"),
}
LABEL_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_vulnerability_is_found(name, caller):
    expected, least = CASES[name]
    response = caller().upload(f"{name}.sol", source_of(name))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "COMPLETED", body
    audit = Audit.objects.get(pk=body["id"])
    detectors = {f["detector"] for f in audit.findings}
    assert expected <= detectors, detectors
    assert LABEL_RANK[audit.risk_label] >= LABEL_RANK[least]
    assert audit.compiler_version == "0.8.37"  # the newest installed that ^0.8.20 accepts
    assert audit.analyzer_version == "slither 0.11.6"
    task_run = TaskRun.objects.get(pk=body["task_run_id"])
    assert task_run.status == "SUCCEEDED" and task_run.result["risk_score"] == audit.risk_score
    finding = next(f for f in audit.findings if f["detector"] in expected)
    assert finding["lines"] and finding["file"] == f"{name}.sol" and finding["description"]


def test_reentrancy_points_at_withdraw(caller):
    body = caller().upload("ReentrancyVault.sol", source_of("ReentrancyVault")).json()
    audit = Audit.objects.get(pk=body["id"])
    finding = next(f for f in audit.findings if f["detector"] == "reentrancy-eth")
    assert (finding["severity"], finding["confidence"]) == ("high", "medium")
    assert finding["function"] == "withdraw" and finding["contract"] == "ReentrancyVault"
    assert audit.risk_score >= 50


def test_clean_contract_scores_low(caller):
    body = caller().upload("CleanCounter.sol", source_of("CleanCounter")).json()
    audit = Audit.objects.get(pk=body["id"])
    assert audit.status == AuditStatus.COMPLETED
    assert audit.risk_label == "low" and audit.risk_score < 25
    assert not [f for f in audit.findings if f["severity"] in ("high", "medium", "low")]


def test_signals_found_in_code(caller):
    body = caller().upload("OwnerMintProxy.sol", source_of("OwnerMintProxy")).json()
    audit = Audit.objects.get(pk=body["id"])
    assert {"owner_only_mint", "delegatecall", "selfdestruct"} <= set(audit.signals)
    reasons = " ".join(line["reason"] for line in audit.score_breakdown)
    assert "one owner account can mint" in reasons and "selfdestruct" in reasons
