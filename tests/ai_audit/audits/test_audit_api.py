"""The five audit endpoints on happy and unhappy paths: audit-contract (registered, verified
contract), upload-contract (.sol or standard JSON; too large, not Solidity, unsafe paths, unsupported
compiler, not compiling, time limit), audits list/detail (another organization's id), history and
comparison, statistics."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from ai_audit.models import Audit
from tests.ai_audit.audits.conftest import source_of, standard_json


# --- audit-contract ---------------------------------------------------------------------------------

def test_audit_a_registered_verified_contract_and_its_history(caller, registered_contract):
    contract = registered_contract("ReentrancyVault")
    manager = caller()
    response = manager.post("/api/ai/audit-contract/", {"address": contract.address.lower()})
    assert response.status_code == 202, response.content
    first = response.json()
    assert first["status"] == "COMPLETED" and first["source_kind"] == "CONTRACT"
    assert (first["contract_address"], first["network"], first["contract_name"]) == (
        contract.address, "ethereum", "ReentrancyVault")
    assert first["compiler_version"] == "0.8.30"  # the verified build's version
    assert first["findings_by_severity"]["high"] >= 1 and first["risk_label"] in ("high", "critical")
    assert "unverified_source" not in first["signals"]
    second = manager.post("/api/ai/audit-contract/", {"address": contract.address, "network": "ethereum"}).json()
    detail = manager.get(f"/api/ai/audits/{second['id']}/").json()
    assert [h["id"] for h in detail["history"]] == [second["id"], first["id"]]
    reentrancy = next(f for f in detail["findings"] if f["detector"] == "reentrancy-eth")
    flagged = [line["text"] for line in reentrancy["excerpt"] if line["flagged"]]
    assert any("msg.sender.call{value: amount}" in text for text in flagged)
    assert detail["score_breakdown"][0]["reason"] and detail["model_output"] is None
    compared = manager.get(f"/api/ai/audits/{second['id']}/", compare_to=first["id"]).json()["comparison"]
    assert compared["fixed"] == [] and compared["new"] == []
    assert {f["detector"] for f in compared["unchanged"]} >= {"reentrancy-eth"}


def test_audit_contract_refusals(caller, registered_contract, make_organization):
    manager = caller()
    unverified = registered_contract("CleanCounter", verified=False)
    response = manager.post("/api/ai/audit-contract/", {"address": unverified.address})
    assert response.status_code == 409 and response.json()["error"]["code"] == "contract_not_verified"
    assert "verify" in response.json()["error"]["message"]
    # unknown, on another network, or another organization's: one answer naming the field
    unknown = manager.post("/api/ai/audit-contract/", {"address": "0x" + "ab" * 20})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "contract_not_registered"
    assert unknown.json()["error"]["details"] == {"field": "address"}
    verified = registered_contract("CleanCounter")
    wrong_network = manager.post("/api/ai/audit-contract/", {"address": verified.address, "network": "polygon"})
    assert wrong_network.status_code == 422 and wrong_network.json()["error"]["code"] in (
        "contract_not_registered", "unknown_network"), wrong_network.content
    theirs = registered_contract("CleanCounter", organization_=make_organization("Other"))
    foreign = manager.post("/api/ai/audit-contract/", {"address": theirs.address})
    assert (foreign.status_code, foreign.json()["error"]) == (unknown.status_code, {
        **unknown.json()["error"], "message": foreign.json()["error"]["message"]})
    assert manager.post("/api/ai/audit-contract/", {"address": verified.address, "extra": 1}).status_code == 422
    plain = caller(role=Role.USER)
    assert plain.post("/api/ai/audit-contract/", {"address": verified.address}).status_code == 403
    assert not Audit.objects.exists()


# --- upload-contract ---------------------------------------------------------------------------------

def test_upload_standard_json_input(caller):
    data = standard_json("TxOriginWallet")
    response = caller(role=Role.USER, is_accountant=True).upload("input.json", json.dumps(data), compiler_version="0.8.26")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["source_kind"] == "UPLOAD_JSON" and body["compiler_version"] == "0.8.26"
    assert body["status"] == "COMPLETED" and body["contract_name"] == "input"
    audit = Audit.objects.get(pk=body["id"])
    assert {"tx-origin"} <= {f["detector"] for f in audit.findings}
    assert audit.compiler_settings == {"optimizer": {"enabled": True, "runs": 200}}  # outputSelection dropped


def test_upload_for_a_registered_unverified_contract_counts_the_unverified_source(caller, registered_contract):
    contract = registered_contract("CleanCounter", verified=False)
    body = caller().upload("Clean Counter (copy).sol", source_of("CleanCounter"), address=contract.address).json()
    assert body["status"] == "COMPLETED" and body["file_name"] == "Clean Counter (copy).sol"
    assert Audit.objects.get(pk=body["id"]).sources.keys() == {"Clean_Counter__copy_.sol"}
    assert body["signals"] == ["unverified_source"] and body["contract_address"] == contract.address
    assert body["risk_score"] == 15 and body["risk_label"] == "low"


@pytest.mark.parametrize("name,content,code,status", [
    ("notes.txt", "just some text", "not_solidity", 422),
    ("Empty.sol", "// nothing here\n", "not_solidity", 422),
    ("input.json", "{not json", "not_solidity", 422),
    ("input.json", json.dumps({"language": "Vyper", "sources": {"a.vy": {"content": "x: int128"}}}), "not_solidity", 422),
    ("input.json", json.dumps({"language": "Solidity", "sources": {}}), "not_solidity", 422),
    ("input.json", json.dumps({"language": "Solidity", "sources": {"A.sol": {"urls": ["/etc/passwd"]}}}),
     "invalid_source", 422),
    ("input.json", json.dumps({"language": "Solidity", "sources": {"../../escape.sol": {"content": "contract A {}"}}}),
     "invalid_source", 422),
    ("input.json", json.dumps({"language": "Solidity", "sources": {"/abs/A.sol": {"content": "contract A {}"}}}),
     "invalid_source", 422),
    ("input.json", json.dumps({"language": "Solidity", "sources": {"a//A.sol": {"content": "contract A {}"}}}),
     "invalid_source", 422),
    ("input.json", json.dumps({"language": "Solidity", "sources": {"$where.sol": {"content": "contract A {}"}}}),
     "invalid_source", 422),
    ("Old.sol", "pragma solidity ^0.5.0;\ncontract Old {}\n", "unsupported_compiler", 422),
    ("Latin.sol", b"contract A { string s = \"\xe9\"; }", "not_solidity", 422),
])
def test_upload_refusals(caller, name, content, code, status):
    response = caller().upload(name, content)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not Audit.objects.exists()


def test_upload_too_large(caller, settings):
    settings.AUDIT_MAX_UPLOAD_BYTES = 1024
    response = caller().upload("Big.sol", "pragma solidity ^0.8.20;\ncontract Big {}\n" + "// pad\n" * 400)
    assert response.status_code == 413 and response.json()["error"]["code"] == "upload_too_large"


def test_upload_unsupported_compiler_version(caller):
    response = caller().upload("CleanCounter.sol", source_of("CleanCounter"), compiler_version="0.4.26")
    assert response.status_code == 422 and response.json()["error"]["code"] == "unsupported_compiler"
    assert "0.8.37" in response.json()["error"]["details"]["supported"]


def test_upload_that_does_not_compile_fails_the_audit_with_the_reason(caller):
    response = caller().upload("Broken.sol", "pragma solidity ^0.8.20;\ncontract Broken { function f() { x = 1; } }\n")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "FAILED" and "does not compile" in body["error"]
    assert body["risk_score"] is None


def test_analysis_time_limit(caller, settings):
    settings.SLITHER_TIMEOUT_SECONDS = 0.2
    body = caller().upload("CleanCounter.sol", source_of("CleanCounter")).json()
    assert body["status"] == "FAILED" and "longer than" in body["error"]


def test_analyzer_not_installed_is_503(caller, settings):
    settings.SLITHER_PYTHON = "/nonexistent/python"
    response = caller().upload("CleanCounter.sol", source_of("CleanCounter"))
    assert response.status_code == 503 and response.json()["error"]["code"] == "analyzer_unavailable"


# --- reading -----------------------------------------------------------------------------------------

def test_list_detail_scoping_and_statistics(caller, make_user, make_organization, access_token_for, client):
    manager = caller()
    vault = manager.upload("ReentrancyVault.sol", source_of("ReentrancyVault")).json()
    clean = manager.upload("CleanCounter.sol", source_of("CleanCounter")).json()
    reader = caller(role=Role.USER)
    listed = reader.get("/api/ai/audits/").json()
    assert [a["id"] for a in listed["items"]] == [clean["id"], vault["id"]]
    assert "sources" not in listed["items"][0] and "findings" not in listed["items"][0]
    assert [a["id"] for a in reader.get("/api/ai/audits/", label="low").json()["items"]] == [clean["id"]]
    assert reader.get("/api/ai/audits/", status="FAILED").json()["items"] == []
    assert reader.get(f"/api/ai/audits/{vault['id']}/").status_code == 200
    stats = reader.get("/api/ai/audit-statistics/").json()
    assert stats["audits"] == 2 and stats["by_severity"]["high"] >= 1
    assert stats["by_label"]["low"] == 1 and stats["by_label"]["high"] + stats["by_label"]["critical"] == 1
    assert sum(b["count"] for b in stats["score_distribution"]) == 2
    assert stats["over_time"][0]["audits"] == 2
    assert any(d["detector"] == "reentrancy-eth" and d["count"] == 1 for d in stats["by_detector"])
    # another organization: its audit id is not found, its lists and statistics are empty
    outsider = make_user(role=Role.ADMIN, organization=make_organization("Other"))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(outsider)}"}
    assert client.get(f"/api/ai/audits/{vault['id']}/", **auth).status_code == 404
    assert client.get("/api/ai/audits/", **auth).json()["items"] == []
    assert client.get("/api/ai/audit-statistics/", **auth).json()["audits"] == 0
    assert client.get(f"/api/ai/audits/{clean['id']}/", {"compare_to": vault["id"]}, **auth).status_code == 404
    assert reader.get("/api/ai/audits/not-an-id/").status_code == 404
    # comparing: the vault's findings are "fixed" going to the clean contract's audit
    compared = reader.get(f"/api/ai/audits/{clean['id']}/", compare_to=vault["id"]).json()["comparison"]
    assert compared["before_id"] == vault["id"] and "reentrancy-eth" in {f["detector"] for f in compared["fixed"]}


def test_list_query_count_does_not_grow(caller):
    manager = caller()
    manager.upload("CleanCounter.sol", source_of("CleanCounter"))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert manager.get("/api/ai/audits/").status_code == 200
            assert manager.get("/api/ai/audit-statistics/").status_code == 200
        return len(queries)

    few = count()
    original = Audit.objects.get()
    for _ in range(5):
        original.pk = None
        original.save()
    assert count() == few


def test_anonymous_is_refused():
    from django.test import Client

    assert Client().get("/api/ai/audits/").status_code == 401
