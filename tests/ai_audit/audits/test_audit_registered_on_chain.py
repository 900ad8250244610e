"""The whole path on real parts: the reentrancy vault compiled with solc-js and deployed to anvil,
registered and verified through /api/contracts/ (ai_audit.contracts), then audited through
/api/ai/audit-contract/ from its verified source."""

from django.conf import settings

from tests.ai_audit.audits.conftest import source_of
from tests.ai_audit.contracts.conftest import compile_source, deploy


def test_deploy_register_verify_then_audit(eth_node, caller):
    abi, code = compile_source(source_of("ReentrancyVault"), name="ReentrancyVault", version="0.8.30")
    address = deploy(settings.ETH_RPC_URL, abi, code)
    manager = caller()
    unverified = manager.post("/api/contracts/", {"address": address, "name": "Vault"})
    assert unverified.status_code in (200, 201), unverified.content
    refused = manager.post("/api/ai/audit-contract/", {"address": address})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "contract_not_verified"
    verified = manager.post(f"/api/contracts/{address}/verify/", {
        "compiler_version": "0.8.30", "source": source_of("ReentrancyVault"), "contract_name": "ReentrancyVault",
        "optimizer_enabled": True, "optimizer_runs": 200})
    assert verified.status_code == 200 and verified.json()["is_verified"] is True, verified.content
    response = manager.post("/api/ai/audit-contract/", {"address": address, "network": "ethereum"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "COMPLETED" and body["contract_address"] == address and body["network"] == "ethereum"
    assert body["compiler_version"] == "0.8.30" and body["risk_label"] in ("high", "critical")
    detail = manager.get(f"/api/ai/audits/{body['id']}/").json()
    assert "reentrancy-eth" in {f["detector"] for f in detail["findings"]}
    assert [a["id"] for a in manager.get("/api/ai/audits/", address=address.lower()).json()["items"]] == [body["id"]]
