"""Calls to the organization's registered contracts, decoded from their ABIs (pure: no Django, no node).

`call_decode(abi, selector, data)` finds the ABI function whose selector (the first 4 bytes of
keccak-256 of its canonical signature) the call starts with and, when the call data is at hand,
decodes its arguments with eth-abi, written as JSON-safe values by the contract registry's own
`abi_args.result_decode` (one ABI path for the registry's reads and this). Unknown selectors and
malformed data never raise: an unknown function is None, undecodable arguments are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from eth_abi import decode as abi_decode
from eth_utils import keccak

from ai_audit.contracts import abi_args

MAX_SHOWN_ARGUMENTS = 3
MAX_SHOWN_VALUE = 24


@dataclass(frozen=True)
class DecodedCall:
    name: str  # "stake"
    signature: str  # "stake(uint256)"
    selector: str  # "0xa694fc3a"
    arguments: tuple = ()  # ((name, type, JSON-safe value), ...); () when the call data was not at hand

    def arguments_text(self) -> str:
        """"amount=1000, to=0xAb…12" (the first few, values shortened), or ""."""
        shown = []
        for name, _, value in self.arguments[:MAX_SHOWN_ARGUMENTS]:
            text = str(value)
            if len(text) > MAX_SHOWN_VALUE:
                text = f"{text[:10]}…{text[-4:]}"
            shown.append(f"{name}={text}" if name else text)
        if len(self.arguments) > MAX_SHOWN_ARGUMENTS:
            shown.append("…")
        return ", ".join(shown)


def selector_of(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


@lru_cache(maxsize=4096)
def _selector_of_cached(signature: str) -> str:
    return selector_of(signature)


def abi_functions_by_selector(abi) -> dict[str, dict]:
    """selector -> the ABI's function entry (entries that are not well-formed functions are skipped)."""
    found = {}
    if not isinstance(abi, list):
        return found
    for entry in abi:
        if not isinstance(entry, dict) or entry.get("type", "function") != "function" or not entry.get("name"):
            continue
        try:
            found.setdefault(_selector_of_cached(abi_args.signature(entry)), entry)
        except (KeyError, TypeError, AttributeError):
            continue
    return found


def _data_bytes(data) -> bytes:
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    text = (data or "").strip()
    text = text[2:] if text[:2].lower() == "0x" else text
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""


def call_decode(abi, selector: str = "", data=None, functions: dict | None = None) -> DecodedCall | None:
    """The call of `abi`'s function named by `data` (call data: 0x hex or bytes), else by `selector`
    ("0x" + 8 hex digits); None when the ABI has no such function. `functions`: the ABI's
    `abi_functions_by_selector`, when the caller keeps it for many calls."""
    raw = _data_bytes(data)
    if len(raw) >= 4:
        selector = "0x" + raw[:4].hex()
    selector = (selector or "").lower()
    entry = (functions if functions is not None else abi_functions_by_selector(abi)).get(selector)
    if entry is None:
        return None
    call = DecodedCall(name=entry["name"], signature=abi_args.signature(entry), selector=selector)
    if len(raw) < 4:
        return call
    inputs = entry.get("inputs", [])
    try:
        values = abi_decode([abi_args.canonical_type(p) for p in inputs], raw[4:])
        decoded = abi_args.result_decode(inputs, values[0] if len(inputs) == 1 else values)
    except Exception:  # noqa: BLE001 (any malformed call data: the function is still known)
        return call
    return DecodedCall(call.name, call.signature, selector,
                       tuple((item["name"], item["type"], item["value"]) for item in decoded))
