"""The blockchain networks the app talks to: name, chain id, JSON-RPC URL, explorer URL, native asset.

Settings-driven. `CHAIN_NETWORKS` (a list of dicts with the keys of `Network`) replaces the whole
registry when set. Otherwise the registry is:
- "ethereum": the node of ETH_RPC_URL / ETH_CHAIN_ID (anvil's 31337 in `make run` and the tests);
- "polygon": when POLYGON_RPC_URL is set (POLYGON_CHAIN_ID, default 137; POLYGON_EXPLORER_URL);
- "bsc": when BSC_RPC_URL is set (BSC_CHAIN_ID, default 56; BSC_EXPLORER_URL).
The default network is "ethereum" (DEFAULT_NETWORK overrides). Every client `web3_for` hands out
has been checked to answer the network's chain id: a node on another chain is refused, never used.

Wallets, their transactions and their sends carry the name of their network (`Wallet.network`, ...):
the monitor scans each network's node with its own checkpoint and its own number of confirmations
(`confirmations_for`: `<NAME>_CONFIRMATIONS` in settings or a `confirmations` key of CHAIN_NETWORKS,
else ETH_CONFIRMATIONS); sends sign with the network's chain id and go to its node; the reconciler
walks every configured network. A network's name never starts with "0x" (wallets.external_ids
tells a network segment from a transaction hash by it).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from web3 import Web3

from core.errors import ErrorCode, InvalidInput, Unavailable

RPC_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Network:
    name: str
    chain_id: int
    rpc_url: str
    explorer_url: str = ""
    native_asset: str = "ETH"
    label: str = ""
    confirmations: int | None = None  # None: <NAME>_CONFIRMATIONS in settings, else ETH_CONFIRMATIONS

    def as_dict(self) -> dict:
        return {"name": self.name, "label": self.label or self.name.title(), "chain_id": self.chain_id,
                "explorer_url": self.explorer_url, "native_asset": self.native_asset}

    def explorer_address_url(self, address: str) -> str:
        return f"{self.explorer_url.rstrip('/')}/address/{address}" if self.explorer_url else ""


def _setting(name: str, default=""):
    return getattr(settings, name, default)


def networks() -> list[Network]:
    """Every configured network, the default first."""
    configured = _setting("CHAIN_NETWORKS", None)
    if configured:
        found = [Network(**{key: value for key, value in item.items() if key in Network.__dataclass_fields__})
                 for item in configured]
    else:
        found = [Network("ethereum", int(settings.ETH_CHAIN_ID), settings.ETH_RPC_URL,
                         _setting("ETH_EXPLORER_URL", "https://etherscan.io"), "ETH", "Ethereum")]
        if _setting("POLYGON_RPC_URL"):
            found.append(Network("polygon", int(_setting("POLYGON_CHAIN_ID", 137)), _setting("POLYGON_RPC_URL"),
                                 _setting("POLYGON_EXPLORER_URL", "https://polygonscan.com"), "POL", "Polygon"))
        if _setting("BSC_RPC_URL"):
            found.append(Network("bsc", int(_setting("BSC_CHAIN_ID", 56)), _setting("BSC_RPC_URL"),
                                 _setting("BSC_EXPLORER_URL", "https://bscscan.com"), "BNB", "BNB Smart Chain"))
    default = default_network_name(found)
    return sorted(found, key=lambda network: network.name != default)


def default_network_name(found: list[Network] | None = None) -> str:
    names = [network.name for network in (found if found is not None else networks())]
    wanted = _setting("DEFAULT_NETWORK", "") or "ethereum"
    return wanted if wanted in names else (names[0] if names else "ethereum")


def network_names() -> list[str]:
    return [network.name for network in networks()]


def network_get(name: str | None) -> Network:
    """The network called `name` (the default one for None/""); InvalidInput naming the choices."""
    found = networks()
    if not name:
        return found[0]
    for network in found:
        if network.name == name.strip().lower():
            return network
    raise InvalidInput(ErrorCode.UNKNOWN_NETWORK,
                       f"Unknown network {name!r}; configured: {', '.join(n.name for n in found)}.",
                       {"field": "network", "choices": [n.name for n in found]})


def confirmations_for(network: Network | str | None) -> int:
    """Blocks (counting its own) that must hold a transaction of `network` before it counts as
    confirmed: the network's own `confirmations`, else the `<NAME>_CONFIRMATIONS` setting, else
    ETH_CONFIRMATIONS (read at call time, so a change of settings applies at once)."""
    if not isinstance(network, Network):
        network = network_get(network)
    if network.confirmations:
        return int(network.confirmations)
    if network.name != "ethereum":
        own = _setting(f"{network.name.upper()}_CONFIRMATIONS", None)
        if own:
            return int(own)
    return int(settings.ETH_CONFIRMATIONS)


def network_for_chain_id(chain_id: int) -> Network | None:
    for network in networks():
        if network.chain_id == int(chain_id):
            return network
    return None


def web3_for(network: Network | str | None) -> Web3:
    """A web3 client of the network's node, after checking that the node answers its chain id.
    Unavailable(CHAIN_UNAVAILABLE) when the node does not answer, Unavailable(WRONG_CHAIN) when it
    is on another chain."""
    if not isinstance(network, Network):
        network = network_get(network)
    w3 = Web3(Web3.HTTPProvider(network.rpc_url, request_kwargs={"timeout": RPC_TIMEOUT_SECONDS}))
    try:
        chain_id = w3.eth.chain_id
    except Exception as exc:
        raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE,
                          f"The {network.name} node at {network.rpc_url} is unreachable ({type(exc).__name__}).",
                          {"network": network.name}) from None
    if chain_id != network.chain_id:
        raise Unavailable(ErrorCode.WRONG_CHAIN,
                          f"The {network.name} node answers chain id {chain_id}, expected {network.chain_id}.",
                          {"network": network.name, "chain_id": chain_id, "expected_chain_id": network.chain_id})
    return w3


def network_of_chain_id(chain_id: int) -> Network:
    """The configured network of `chain_id`; Unavailable(CHAIN_UNAVAILABLE) when none is (a send
    stored for a network the settings no longer list)."""
    network = network_for_chain_id(chain_id)
    if network is None:
        raise Unavailable(ErrorCode.CHAIN_UNAVAILABLE, f"No network with chain id {chain_id} is configured.",
                          {"chain_id": int(chain_id)})
    return network


def network_status() -> list[dict]:
    """Each network with whether its node answers on the right chain (for pages and health)."""
    result = []
    for network in networks():
        entry = network.as_dict()
        try:
            entry["block_number"] = web3_for(network).eth.block_number
            entry["ok"], entry["problem"] = True, ""
        except Unavailable as error:
            entry["block_number"], entry["ok"], entry["problem"] = None, False, error.message
        result.append(entry)
    return result


def default_network_required(wallet, what: str) -> None:
    """Refuse a wallet of another network where only the default network's payments are built yet
    (invoices paid in crypto, payroll payouts: their assets, rates and gas are the default chain's):
    422 `network_not_supported`, naming both networks, before anything is written."""
    default = networks()[0].name
    if (getattr(wallet, "network", "") or default) != default:
        raise InvalidInput(ErrorCode.NETWORK_NOT_SUPPORTED,
                           f"{what} are paid on {default}; wallet {wallet.address} is on {wallet.network}.",
                           {"network": wallet.network, "supported": [default]})
