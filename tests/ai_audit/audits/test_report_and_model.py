"""The audit report: back-office pages (list with upload and statistics, detail with findings by
severity and code excerpts, compare, PDF read back with pdftotext), and the optional language-model
summary through core.llm against tests/llm_server.py (good, malformed, slow, down)."""

import json
import subprocess

import pytest
from django.test import Client

from accounts.models import Role
from ai_audit.audits import execution
from ai_audit.models import Audit
from tests.ai_audit.audits.conftest import source_of
from tests.llm_server import closed_port_url, llm_server

GOOD = json.dumps({"summary": "Anyone can drain the vault by calling withdraw again before the balance is cleared.",
                   "fixes": [{"detector": "reentrancy-eth", "suggestion": "Clear the balance before the call."},
                             {"detector": "made-up-detector", "suggestion": "ignored"}]})


@pytest.fixture
def browser(make_user):
    def make(role=Role.MANAGER, **fields):
        user = make_user(role=role, **fields)
        client = Client()
        client.force_login(user)
        client.user = user
        return client

    return make


def _vault_audit(caller) -> Audit:
    body = caller().upload("ReentrancyVault.sol", source_of("ReentrancyVault")).json()
    return Audit.objects.get(pk=body["id"])


def test_pages_report_compare_and_pdf(caller, browser):
    manager = browser()
    upload = manager.post("/app/audits/upload/", {"file": _file("ReentrancyVault.sol", source_of("ReentrancyVault"))})
    assert upload.status_code == 302
    first = Audit.objects.get()
    assert upload["Location"] == f"/app/audits/{first.pk}/"
    second = Audit.objects.get(pk=caller().upload("ReentrancyVault.sol", source_of("ReentrancyVault")).json()["id"])
    page = browser(role=Role.USER).get(f"/app/audits/{second.pk}/").content.decode()
    assert "Risk score: 50 / 100 (high)" in page or f"Risk score: {second.risk_score} / 100" in page
    assert page.index("High (") < page.index("Informational (")  # grouped by severity, high first
    assert "reentrancy-eth" in page and "<mark>" in page and "msg.sender.call{value: amount}" in page
    assert "floor: a high-severity finding" in page and "Model output" not in page
    assert f"?before={first.pk}&amp;after={second.pk}" in page
    listing = browser(role=Role.USER).get("/app/audits/").content.decode()
    assert "Upload and audit" not in listing and "Statistics (2 completed audits)" in listing
    assert "Upload and audit" in manager.get("/app/audits/").content.decode()
    compare = manager.get("/app/audits/compare/", {"before": first.pk, "after": second.pk}).content.decode()
    assert "Fixed (0)" in compare and "New (0)" in compare and "reentrancy-eth" in compare
    assert "pick" in manager.get("/app/audits/compare/").content.decode()
    pdf = manager.get(f"/app/audits/{second.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.content, capture_output=True,
                          check=True).stdout.decode()
    assert "Smart-contract audit" in text and "Risk score" in text and "reentrancy-eth" in text
    assert "How the score was made" in text and "msg.sender.call{value: amount}" in text


def test_pages_refuse_and_hide(browser, caller, make_organization, make_user):
    audit = _vault_audit(caller)
    assert browser(role=Role.USER).post("/app/audits/upload/", {}).status_code == 403
    outsider = Client()
    outsider.force_login(make_user(role=Role.ADMIN, organization=make_organization("Other")))
    assert outsider.get(f"/app/audits/{audit.pk}/").status_code == 404
    assert outsider.get(f"/app/audits/{audit.pk}/pdf/").status_code == 404
    assert outsider.get("/app/audits/compare/", {"before": audit.pk, "after": audit.pk}).status_code == 404
    not_solidity = browser().post("/app/audits/upload/", {"file": _file("notes.txt", "hello")}, follow=True)
    assert "Upload a Solidity source" in not_solidity.content.decode()


def test_failed_audit_has_no_pdf(browser, caller):
    body = caller().upload("Broken.sol", "pragma solidity ^0.8.20;\ncontract Broken { function f() { x = 1; } }\n").json()
    manager = browser()
    response = manager.get(f"/app/audits/{body['id']}/pdf/", follow=True)
    assert "its report exists once it has completed" in response.content.decode()
    assert "does not compile" in manager.get(f"/app/audits/{body['id']}/").content.decode()


@pytest.fixture(scope="session")
def vault_analysis():
    """The vault analysed once for the model tests (slither in its venv; no database needed)."""
    from ai_audit.audits import analyzer

    return analyzer.analyse({"ReentrancyVault.sol": source_of("ReentrancyVault")}, {}, "0.8.30")


def _unsaved_audit(analysis) -> Audit:
    return Audit(contract_name="ReentrancyVault", findings=analysis.findings, risk_score=50, risk_label="high")


def _file(name, text):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode())


# --- the optional model --------------------------------------------------------------------------------

def test_model_summary_end_to_end_marked_as_model_output(caller, browser, settings):
    with llm_server(answer=GOOD) as server:
        settings.LLM_BASE_URL = server.base_url
        audit = _vault_audit(caller)
        sent = server.requests[0]["body"]
    assert audit.llm_summary.startswith("Anyone can drain the vault")
    assert audit.llm_fixes == [{"detector": "reentrancy-eth", "suggestion": "Clear the balance before the call."}]
    assert audit.llm_model == "granite3.3" and audit.llm_error == ""
    assert "reentrancy-eth" in sent["messages"][1]["content"] and sent["response_format"] == {"type": "json_object"}
    detail = caller(role=Role.USER).get(f"/api/ai/audits/{audit.pk}/").json()
    assert detail["model_output"]["is_model_output"] is True
    assert detail["model_output"]["summary"] == audit.llm_summary
    page = browser(role=Role.USER).get(f"/app/audits/{audit.pk}/").content.decode()
    assert "written by a language model, not by the analysis" in page
    # the score never depends on the model
    assert audit.risk_score == Audit.objects.filter(risk_label=audit.risk_label).first().risk_score


@pytest.mark.parametrize("behaviour,reason", [
    ({"raw": b"{not json"}, "not a chat completion"),
    ({"answer": "I think it is fine."}, "holds no JSON object"),
    ({"answer": json.dumps({"fixes": []})}, "has no summary"),
    ({"status": 500}, "HTTP 500"),
    ({"answer": GOOD, "delay": 3}, "no answer within 1 s"),
])
def test_model_failures_leave_a_complete_audit_without_summary(vault_analysis, settings, behaviour, reason):
    settings.LLM_TIMEOUT_SECONDS = 1
    audit = _unsaved_audit(vault_analysis)
    with llm_server(**behaviour) as server:
        settings.LLM_BASE_URL = server.base_url
        execution.audit_llm_explain(audit)
    assert audit.llm_summary == "" and audit.llm_fixes == [] and reason in audit.llm_error


def test_model_down(vault_analysis, settings):
    audit = _unsaved_audit(vault_analysis)
    settings.LLM_BASE_URL = closed_port_url()
    execution.audit_llm_explain(audit)
    assert audit.llm_summary == "" and "cannot reach the model" in audit.llm_error


def test_model_down_during_the_audit_still_completes_it(caller, settings):
    settings.LLM_BASE_URL = closed_port_url()
    audit = _vault_audit(caller)
    assert audit.status == "COMPLETED" and audit.risk_score is not None
    assert audit.llm_summary == "" and "cannot reach the model" in audit.llm_error
