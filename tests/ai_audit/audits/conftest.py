"""Audits on real parts: slither in .venv-slither with solc-js through scripts/solc, the embedded
database, the tracked task run inline (HUEY_IMMEDIATE). The contracts audited are in contracts/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CONTRACTS = Path(__file__).resolve().parent / "contracts"


def source_of(name: str) -> str:
    return (CONTRACTS / f"{name}.sol").read_text()


def standard_json(name: str) -> dict:
    return {"language": "Solidity", "sources": {f"{name}.sol": {"content": source_of(name)}},
            "settings": {"optimizer": {"enabled": True, "runs": 200},
                         "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}}}}


class Caller:
    """One member calling the API with a bearer token."""

    def __init__(self, client, user, token):
        self.client, self.user = client, user
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, path, **params):
        return self.client.get(path, params, **self.auth)

    def post(self, path, data):
        return self.client.post(path, json.dumps(data), content_type="application/json", **self.auth)

    def upload(self, name: str, content: bytes | str, **fields):
        from django.core.files.uploadedfile import SimpleUploadedFile

        raw = content.encode() if isinstance(content, str) else content
        return self.client.post("/api/ai/upload-contract/", {"file": SimpleUploadedFile(name, raw), **fields}, **self.auth)


@pytest.fixture
def caller(client, make_user, access_token_for):
    """caller(role="MANAGER", **user fields) -> Caller."""
    from accounts.models import Role

    def make(role=Role.MANAGER, **fields):
        user = make_user(role=role, **fields)
        return Caller(client, user, access_token_for(user))

    return make


@pytest.fixture
def registered_contract(organization):
    """A contract row of the registry as ai_audit.contracts leaves it after a matching verification
    (or unverified), for audit-contract tests that are not about verification itself."""
    from ai_audit.models import Contract

    addresses = iter(f"0x{n:040x}" for n in range(0x1000, 0x2000))

    def make(name: str, *, verified: bool = True, network: str = "ethereum", organization_=None):
        from web3 import Web3

        return Contract.objects.create(
            organization=organization_ or organization, address=Web3.to_checksum_address(next(addresses)),
            network=network, chain_id=31337, name=name, is_verified=verified,
            verification_status="verified" if verified else "unverified",
            source_standard_json=standard_json(name) if verified else None,
            compiler_version="0.8.30+commit.73712a01" if verified else "")

    return make
