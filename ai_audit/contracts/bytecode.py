"""Comparing compiled runtime bytecode with on-chain code (pure: no Django, no node).

Two codes match when, after normalising both, they are byte-for-byte equal. Normalising:
1. The metadata: solc appends a CBOR map (ipfs/bzzr hash of the metadata, the solc version) and, in
   the last two bytes, its length. That trailer is removed from both (a changed comment or file name
   changes only it, so it is not evidence of different code).
2. Immutables: `immutableReferences` ({ast id: [{start, length}]}, from the compiler) name the byte
   ranges the constructor fills in; those ranges are zeroed in both.
Nothing else is ignored: a different optimizer setting or a changed statement is a mismatch.
`compare_runtime(...)` returns a `Comparison` with a diff summary a person can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def hex_to_bytes(code: str) -> bytes:
    code = (code or "").strip()
    if code.startswith(("0x", "0X")):
        code = code[2:]
    return bytes.fromhex(code)


def metadata_length(code: bytes) -> int:
    """The length of solc's CBOR metadata trailer (including its 2-byte length), 0 if none."""
    if len(code) < 2:
        return 0
    length = int.from_bytes(code[-2:], "big")
    start = len(code) - 2 - length
    if length == 0 or start < 0:
        return 0
    first = code[start]
    # A CBOR map with 1..5 entries (0xa1..0xa5) whose first key is a text string (0x60..0x7f).
    if not 0xA1 <= first <= 0xA5 or start + 1 >= len(code) or not 0x60 <= code[start + 1] <= 0x7F:
        return 0
    return length + 2


def strip_metadata(code: bytes) -> bytes:
    cut = metadata_length(code)
    return code[:-cut] if cut else code


def immutable_ranges(references: dict | None) -> list[tuple[int, int]]:
    ranges = []
    for entries in (references or {}).values():
        for entry in entries:
            ranges.append((int(entry["start"]), int(entry["length"])))
    return sorted(ranges)


def zero_ranges(code: bytes, ranges: list[tuple[int, int]]) -> bytes:
    buffer = bytearray(code)
    for start, length in ranges:
        end = min(start + length, len(buffer))
        if start < len(buffer):
            buffer[start:end] = bytes(end - start)
    return bytes(buffer)


@dataclass
class Comparison:
    matches: bool
    onchain_length: int
    compiled_length: int
    metadata_differs: bool = False
    immutable_slots: int = 0
    differing_bytes: int = 0
    first_difference: int | None = None
    summary: str = ""
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"matches": self.matches, "onchain_length": self.onchain_length,
                "compiled_length": self.compiled_length, "metadata_differs": self.metadata_differs,
                "immutable_slots": self.immutable_slots, "differing_bytes": self.differing_bytes,
                "first_difference": self.first_difference, "summary": self.summary}


def compare_runtime(*, onchain: bytes, compiled: bytes, immutable_references: dict | None = None) -> Comparison:
    """Compare on-chain runtime code with the compiler's deployedBytecode (see the module doc)."""
    ranges = immutable_ranges(immutable_references)
    chain_body, compiled_body = strip_metadata(onchain), strip_metadata(compiled)
    metadata_differs = onchain[len(chain_body):] != compiled[len(compiled_body):]
    chain_norm, compiled_norm = zero_ranges(chain_body, ranges), zero_ranges(compiled_body, ranges)
    result = Comparison(matches=chain_norm == compiled_norm, onchain_length=len(onchain),
                        compiled_length=len(compiled), metadata_differs=metadata_differs,
                        immutable_slots=len(ranges))
    if not onchain:
        result.matches = False
        result.summary = "There is no code at this address."
        return result
    if result.matches:
        notes = []
        if metadata_differs:
            notes.append("only the metadata hash differs (comments, file names or whitespace changed)")
        if ranges:
            notes.append(f"{len(immutable_references or {})} immutable value(s) ignored ({len(ranges)} place(s) in the code)")
        result.summary = "Runtime bytecode matches" + (f"; {'; '.join(notes)}." if notes else ".")
        return result
    shorter = min(len(chain_norm), len(compiled_norm))
    differing = sum(1 for index in range(shorter) if chain_norm[index] != compiled_norm[index])
    differing += abs(len(chain_norm) - len(compiled_norm))
    first = next((index for index in range(shorter) if chain_norm[index] != compiled_norm[index]), shorter)
    result.differing_bytes, result.first_difference = differing, first
    parts = [f"Runtime bytecode differs: on-chain {len(chain_body)} bytes, compiled {len(compiled_body)} bytes "
             f"(without metadata)"]
    parts.append(f"first difference at byte {first}, {differing} byte(s) differ")
    if len(chain_body) != len(compiled_body):
        parts.append("the lengths differ, so the code itself is different (other source, compiler version or "
                     "optimizer settings)")
    result.summary = "; ".join(parts) + "."
    result.details = {"onchain_excerpt": chain_norm[first:first + 16].hex(),
                      "compiled_excerpt": compiled_norm[first:first + 16].hex()}
    return result
