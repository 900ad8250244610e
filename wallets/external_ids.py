"""The one format of `Transaction.external_id`, the key that makes recording a movement idempotent.

- On chain: `chain:<tx hash>:<log index>:<wallet address>` on ethereum, and
  `chain:<network>:<tx hash>:<log index>:<wallet address>` on any other network (wallets.networks:
  polygon, bsc, ...), since one hash can exist on two chains (two anvils replaying the same dev
  account's first send do exactly that). Ids recorded before networks existed were all on ethereum
  and keep their form. The log index is the Transfer log's index within its block for a token
  movement and `NATIVE_LOG_INDEX` (-1) for the native coin's value of the transaction itself; the
  wallet address keeps both sides of an own transfer apart. `chain_external_id_parse` reads both forms
  (a network's name never starts with "0x", a hash always does).
- Our own token send before it is mined: `chain:[<network>:]<tx hash>:pending:<wallet address>`. The log's index
  exists only once a block holds it; whoever settles the send (monitor, reconciler) reads it from the
  receipt and rewrites the row's external_id to the on-chain form above, so the monitor's record of
  the same log is that row (no second row, no orphan). An ETH send knows its index (-1) at once.
- Imported: `import:<owner id>:<row key>:<part>`. The row key identifies the file's row
  (`tx:<hash>` when the row has a TxHash, else `row:<fingerprint>`, with `~<n>` for the n-th identical
  copy in one file); the part numbers the movements one row becomes (sold, bought, fee).

Everything that builds or reads these strings goes through here (no Django: the pure importer uses it).
"""

from __future__ import annotations

from dataclasses import dataclass

CHAIN_PREFIX = "chain:"
IMPORT_PREFIX = "import:"
NATIVE_LOG_INDEX = -1
PENDING = "pending"
# The network whose ids carry no network segment (every chain id stored before networks existed).
UNNAMED_NETWORK = "ethereum"


def _network_segment(network: str | None) -> str:
    if not network or network == UNNAMED_NETWORK:
        return ""
    if network.lower().startswith("0x") or ":" in network:
        raise ValueError(f"{network!r} cannot name a network in an external id")
    return f"{network}:"


def chain_external_id(*, tx_hash: str, log_index: int, address: str, network: str | None = UNNAMED_NETWORK) -> str:
    return f"{CHAIN_PREFIX}{_network_segment(network)}{tx_hash}:{int(log_index)}:{address}"


def chain_pending_external_id(*, tx_hash: str, address: str, network: str | None = UNNAMED_NETWORK) -> str:
    """A pending token send of `address` (its log index is unknown until the transaction is mined)."""
    return f"{CHAIN_PREFIX}{_network_segment(network)}{tx_hash}:{PENDING}:{address}"


@dataclass(frozen=True)
class ChainIdentity:
    network: str
    tx_hash: str
    log_index: int | None  # None: a pending token send (`pending`)
    address: str


def chain_external_id_parse(external_id: str | None) -> ChainIdentity | None:
    """The parts of an on-chain external id (either form), None for anything else."""
    if not external_id or not external_id.startswith(CHAIN_PREFIX):
        return None
    parts = external_id[len(CHAIN_PREFIX):].split(":")
    network = UNNAMED_NETWORK
    if parts and not parts[0].lower().startswith("0x"):
        network, parts = parts[0], parts[1:]
    if len(parts) != 3 or not parts[0].lower().startswith("0x"):
        return None
    tx_hash, log_part, address = parts
    if log_part == PENDING:
        log_index = None
    else:
        try:
            log_index = int(log_part)
        except ValueError:
            return None
    return ChainIdentity(network=network, tx_hash=tx_hash, log_index=log_index, address=address)


def chain_movement_key(*, tx_hash: str, log_index: int | None, network: str | None = UNNAMED_NETWORK) -> str:
    """Both wallets' rows of one on-chain movement share this key (an own transfer's two halves).
    A row recorded without a log index keeps the key it always had (`...:None`): journals store it.
    On a network other than ethereum the key carries the network, like the external id."""
    return f"{CHAIN_PREFIX}{_network_segment(network)}{tx_hash}:{log_index}"


def is_chain_movement_key(key: str) -> bool:
    return key.startswith(CHAIN_PREFIX)


def row_identity(*, row_key: str, part: int) -> str:
    """One movement of an imported row, unique within its owner's imports."""
    return f"{row_key}:{int(part)}"


def row_key_of_identity(identity: str) -> str:
    return identity.rsplit(":", 1)[0]


def import_external_id(*, owner_id, identity: str) -> str:
    return f"{IMPORT_PREFIX}{owner_id}:{identity}"


def import_row_key(external_id: str | None) -> str | None:
    """`import:<owner>:<row key>` for an imported movement (all parts of a row share it); None
    for anything else."""
    if not external_id or not external_id.startswith(IMPORT_PREFIX):
        return None
    return external_id.rsplit(":", 1)[0]


def import_part(external_id: str) -> int:
    """The movement's part number within its imported row."""
    return int(external_id.rsplit(":", 1)[1])


def row_copy_number(row_key: str) -> str | None:
    """The n of an identical row's n-th copy in one file (`row:<fingerprint>~<n>`), else None."""
    return row_key.rsplit("~", 1)[1] if "~" in row_key else None


def is_hash_row_key(row_key: str) -> bool:
    return row_key.startswith("tx:")


def hash_row_key(tx_hash: str) -> str:
    """The row key of a file row that names its transaction hash."""
    return f"tx:{tx_hash}"


def fingerprint_row_key(fingerprint: str, *, copy: int = 1) -> str:
    """The row key of a row without a hash: its content's fingerprint, `~n` for the n-th copy."""
    return f"row:{fingerprint}" if copy == 1 else f"row:{fingerprint}~{copy}"
