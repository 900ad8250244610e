"""Access-matrix rows of the contract registry (issue 14): /api/contracts/ and /app/contracts/.
Every member reads the organization's contracts and runs read calls (core.permissions.can_view_contracts);
registering, editing and verifying are the staff's (can_manage_contracts). A contract is A's by
registration; its address is public chain data, so the object of a path is the registry entry (the
address for the API, its id for the pages). Registering an address without code answers 422 for the
staff (the rule is reached) and 403 for the others."""

from tests.security.access_table import EVERYONE, STAFF, Rule

NO_CODE = "0x000000000000000000000000000000000000dEaD"
CONTRACT = "/api/contracts/{address}/"
PAGE = "/app/contracts/{contract_id}/"
VERIFY = {"compiler_version": "0.8.37", "source": "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0;\ncontract Other {}\n"}

API = {
    ("GET", "/api/contracts/"): Rule(EVERYONE),
    ("POST", "/api/contracts/"): Rule(STAFF, body={"address": NO_CODE}),
    ("GET", CONTRACT): Rule(EVERYONE, obj="contract"),
    ("PUT", CONTRACT): Rule(STAFF, obj="contract", body={"notes": "matrix note"}),
    ("POST", CONTRACT + "verify/"): Rule(STAFF, obj="contract", body=VERIFY, destructive=True,
                                         note="a non-matching source records a mismatch"),
    ("GET", CONTRACT + "abi/"): Rule(EVERYONE, obj="contract"),
    ("POST", CONTRACT + "interact/"): Rule(EVERYONE, obj="contract", body={"function": "name"}),
}

PAGES = {
    ("GET", "/app/contracts/"): Rule(EVERYONE),
    ("POST", "/app/contracts/register/"): Rule(STAFF, body={"address": NO_CODE, "network": "ethereum"}),
    ("GET", PAGE): Rule(EVERYONE, obj="contract_id"),
    ("POST", PAGE + "verify/"): Rule(STAFF, obj="contract_id", body=VERIFY, destructive=True),
    ("POST", PAGE + "call/"): Rule(EVERYONE, obj="contract_id", body={"function": "name()"}),
}


def make_fresh(kit) -> dict:
    from wallets.erc20 import erc20_deploy_demo_token

    manager = kit.actors["A:manager"]

    def register() -> dict:
        address = erc20_deploy_demo_token(name="Matrix Token", symbol="MTX", decimals=6)
        return kit.ok(manager.api(kit.client, "POST", "/api/contracts/", {"address": address, "contract_type": "erc20"}),
                      "contract")

    def new_contract():
        return kit.remember("contract", register()["address"])

    def new_contract_id():
        return kit.remember("contract_id", register()["id"])

    return {"contract": new_contract, "contract_id": new_contract_id}
