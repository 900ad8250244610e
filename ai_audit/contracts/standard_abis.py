"""The standard ABIs (EIP-20, EIP-721, EIP-1155) a registered contract starts with when none is given."""

from __future__ import annotations


def _params(spec: str) -> list[dict]:
    params = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kind, _, name = item.partition(" ")
        params.append({"name": name, "type": kind})
    return params


def _function(name: str, inputs: str = "", outputs: str = "", mutability: str = "nonpayable") -> dict:
    return {"type": "function", "name": name, "inputs": _params(inputs), "outputs": _params(outputs),
            "stateMutability": mutability}


def _event(name: str, inputs: list[tuple[str, str, bool]]) -> dict:
    return {"type": "event", "name": name, "anonymous": False,
            "inputs": [{"name": n, "type": t, "indexed": i} for t, n, i in inputs]}


ERC20 = [
    _function("name", outputs="string", mutability="view"),
    _function("symbol", outputs="string", mutability="view"),
    _function("decimals", outputs="uint8", mutability="view"),
    _function("totalSupply", outputs="uint256", mutability="view"),
    _function("balanceOf", "address owner", "uint256", "view"),
    _function("allowance", "address owner, address spender", "uint256", "view"),
    _function("transfer", "address to, uint256 value", "bool"),
    _function("approve", "address spender, uint256 value", "bool"),
    _function("transferFrom", "address from, address to, uint256 value", "bool"),
    _event("Transfer", [("address", "from", True), ("address", "to", True), ("uint256", "value", False)]),
    _event("Approval", [("address", "owner", True), ("address", "spender", True), ("uint256", "value", False)]),
]

ERC721 = [
    _function("name", outputs="string", mutability="view"),
    _function("symbol", outputs="string", mutability="view"),
    _function("tokenURI", "uint256 tokenId", "string", "view"),
    _function("balanceOf", "address owner", "uint256", "view"),
    _function("ownerOf", "uint256 tokenId", "address", "view"),
    _function("getApproved", "uint256 tokenId", "address", "view"),
    _function("isApprovedForAll", "address owner, address operator", "bool", "view"),
    _function("supportsInterface", "bytes4 interfaceId", "bool", "view"),
    _function("approve", "address to, uint256 tokenId"),
    _function("setApprovalForAll", "address operator, bool approved"),
    _function("transferFrom", "address from, address to, uint256 tokenId"),
    _function("safeTransferFrom", "address from, address to, uint256 tokenId"),
    _event("Transfer", [("address", "from", True), ("address", "to", True), ("uint256", "tokenId", True)]),
]

ERC1155 = [
    _function("uri", "uint256 id", "string", "view"),
    _function("balanceOf", "address account, uint256 id", "uint256", "view"),
    _function("balanceOfBatch", "address[] accounts, uint256[] ids", "uint256[]", "view"),
    _function("isApprovedForAll", "address account, address operator", "bool", "view"),
    _function("supportsInterface", "bytes4 interfaceId", "bool", "view"),
    _function("setApprovalForAll", "address operator, bool approved"),
    _function("safeTransferFrom", "address from, address to, uint256 id, uint256 value, bytes data"),
    _event("TransferSingle", [("address", "operator", True), ("address", "from", True), ("address", "to", True),
                              ("uint256", "id", False), ("uint256", "value", False)]),
]

BY_TYPE = {"erc20": ERC20, "erc721": ERC721, "erc1155": ERC1155, "custom": []}


def standard_abi(contract_type: str) -> list:
    return [dict(entry) for entry in BY_TYPE.get(contract_type, [])]
