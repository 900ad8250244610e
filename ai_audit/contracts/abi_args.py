"""ABI functions and their arguments (pure: no Django, no node).

- `abi_check(abi)`: a list of ABI entries, each with a known `type`; raises AbiError otherwise.
- `function_find(abi, name_or_signature)`: the function entry for "transfer" (if not overloaded) or
  "transfer(address,uint256)".
- `arguments_coerce(function, args)`: the caller's JSON arguments (a list in order, or an object by
  parameter name) turned into the Python values eth-abi encodes, checked against each parameter's
  type: addresses (20 bytes; a mixed-case address must carry a valid EIP-55 checksum), uintN/intN
  (integers or decimal strings, within N bits), bool, string, bytes/bytesN (0x hex, N bytes at most),
  arrays (T[] and T[k]) and tuples (list or object). An error is an ArgumentError naming the argument
  ("amount", "recipients[2]", "order.price").
- `result_decode(outputs, values)`: decoded return values as JSON-safe data (ints as decimal strings,
  bytes as 0x hex, addresses checksummed), each with its name and type.
"""

from __future__ import annotations

import re

from eth_utils import is_checksum_address, to_checksum_address

ENTRY_TYPES = {"function", "constructor", "event", "error", "fallback", "receive"}
_INT = re.compile(r"^(u?)int(\d*)$")
_BYTES_N = re.compile(r"^bytes(\d+)$")
_ARRAY = re.compile(r"^(.*)\[(\d*)\]$")


class AbiError(ValueError):
    """The ABI itself is malformed."""


class ArgumentError(ValueError):
    def __init__(self, argument: str, message: str):
        super().__init__(message)
        self.argument = argument
        self.message = message


def abi_check(abi) -> list:
    if not isinstance(abi, list):
        raise AbiError("The ABI must be a JSON list of entries.")
    for index, entry in enumerate(abi):
        if not isinstance(entry, dict) or entry.get("type", "function") not in ENTRY_TYPES:
            raise AbiError(f"ABI entry {index} is not a function, event, error, constructor, fallback or receive.")
        if entry.get("type", "function") in ("function", "event", "error") and not entry.get("name"):
            raise AbiError(f"ABI entry {index} has no name.")
        for key in ("inputs", "outputs"):
            params = entry.get(key, [])
            if not isinstance(params, list) or any(not isinstance(p, dict) or "type" not in p for p in params):
                raise AbiError(f"ABI entry {index} has malformed {key}.")
    return abi


def canonical_type(param: dict) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(component) for component in param.get("components", []))
        return f"({inner}){kind[len('tuple'):]}"
    return kind


def signature(function: dict) -> str:
    return f"{function['name']}({','.join(canonical_type(p) for p in function.get('inputs', []))})"


def functions(abi: list) -> list[dict]:
    return [entry for entry in abi if entry.get("type", "function") == "function"]


def is_read(function: dict) -> bool:
    mutability = function.get("stateMutability")
    if mutability is None:  # old ABIs
        return bool(function.get("constant"))
    return mutability in ("view", "pure")


def is_payable(function: dict) -> bool:
    return function.get("stateMutability") == "payable" or bool(function.get("payable"))


def function_find(abi: list, wanted: str) -> dict | None:
    """The function named or signed `wanted`; None if absent. An overloaded bare name is an
    ArgumentError asking for the signature."""
    wanted = (wanted or "").replace(" ", "")
    candidates = functions(abi)
    if "(" in wanted:
        return next((f for f in candidates if signature(f) == wanted), None)
    named = [f for f in candidates if f["name"] == wanted]
    if len(named) > 1:
        raise ArgumentError("function", f"{wanted} is overloaded; name it by signature: "
                                        f"{', '.join(signature(f) for f in named)}.")
    return named[0] if named else None


def _param_name(param: dict, index: int) -> str:
    return param.get("name") or f"arg{index}"


def arguments_coerce(function: dict, args) -> list:
    inputs = function.get("inputs", [])
    if args is None:
        args = []
    if isinstance(args, dict):
        names = [_param_name(p, i) for i, p in enumerate(inputs)]
        unknown = sorted(set(args) - set(names))
        if unknown:
            raise ArgumentError(unknown[0], f"{function['name']} has no argument {unknown[0]!r}.")
        missing = [name for name in names if name not in args]
        if missing:
            raise ArgumentError(missing[0], f"Argument {missing[0]!r} is missing.")
        args = [args[name] for name in names]
    if not isinstance(args, list):
        raise ArgumentError("args", "Arguments must be a list (in order) or an object (by name).")
    if len(args) != len(inputs):
        raise ArgumentError("args", f"{signature(function)} takes {len(inputs)} argument(s), {len(args)} given.")
    return [_coerce(param, value, _param_name(param, index)) for index, (param, value) in enumerate(zip(inputs, args))]


def _coerce(param: dict, value, path: str):
    kind = param["type"]
    array = _ARRAY.match(kind)
    if array:
        element = {**param, "type": array.group(1)}
        if not isinstance(value, list):
            raise ArgumentError(path, f"Argument {path!r} must be a list ({kind}).")
        if array.group(2) and len(value) != int(array.group(2)):
            raise ArgumentError(path, f"Argument {path!r} must have exactly {array.group(2)} items.")
        return [_coerce(element, item, f"{path}[{index}]") for index, item in enumerate(value)]
    if kind == "tuple":
        components = param.get("components", [])
        if isinstance(value, dict):
            names = [_param_name(c, i) for i, c in enumerate(components)]
            if set(value) != set(names):
                raise ArgumentError(path, f"Argument {path!r} needs the fields {', '.join(names)}.")
            value = [value[name] for name in names]
        if not isinstance(value, list) or len(value) != len(components):
            raise ArgumentError(path, f"Argument {path!r} must be a tuple of {len(components)} values.")
        return tuple(_coerce(c, v, f"{path}.{_param_name(c, i)}") for i, (c, v) in enumerate(zip(components, value)))
    if kind == "address":
        return _address(value, path)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise ArgumentError(path, f"Argument {path!r} must be true or false.")
    if kind == "string":
        if not isinstance(value, str):
            raise ArgumentError(path, f"Argument {path!r} must be a string.")
        return value
    if kind == "bytes":
        return _hex_bytes(value, path, None)
    match = _BYTES_N.match(kind)
    if match:
        size = int(match.group(1))
        raw = _hex_bytes(value, path, size)
        return raw.ljust(size, b"\0")
    match = _INT.match(kind)
    if match:
        return _integer(value, path, signed=not match.group(1), bits=int(match.group(2) or 256), kind=kind)
    raise ArgumentError(path, f"Argument {path!r} has an unsupported type {kind}.")


def _address(value, path: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]{40}", value.strip()):
        raise ArgumentError(path, f"Argument {path!r} must be an address (0x and 40 hex digits).")
    value = value.strip()
    body = value[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(value):
        raise ArgumentError(path, f"Argument {path!r} has a bad EIP-55 checksum "
                                  f"(did you mean {to_checksum_address(value)}?).")
    return to_checksum_address(value)


def _hex_bytes(value, path: str, size: int | None) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"0x([0-9a-fA-F]{2})*", value.strip()):
        raise ArgumentError(path, f"Argument {path!r} must be 0x-prefixed hex bytes.")
    raw = bytes.fromhex(value.strip()[2:])
    if size is not None and len(raw) > size:
        raise ArgumentError(path, f"Argument {path!r} holds at most {size} bytes.")
    return raw


def _integer(value, path: str, *, signed: bool, bits: int, kind: str) -> int:
    if isinstance(value, bool):
        raise ArgumentError(path, f"Argument {path!r} must be an integer ({kind}).")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        number = int(value.strip())
    else:
        raise ArgumentError(path, f"Argument {path!r} must be an integer ({kind}), as a number or decimal string.")
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)
    if not low <= number <= high:
        raise ArgumentError(path, f"Argument {path!r} is out of range for {kind} ({low} to {high}).")
    return number


def result_decode(outputs: list[dict], values) -> list[dict]:
    """Return values of a call as [{name, type, value}] (JSON-safe)."""
    if len(outputs) == 1:
        values = [values]
    elif not isinstance(values, (list, tuple)):
        values = [values]
    return [{"name": o.get("name", ""), "type": canonical_type(o), "value": _json_value(o, v)}
            for o, v in zip(outputs, values)]


def _json_value(param: dict, value):
    kind = param["type"]
    array = _ARRAY.match(kind)
    if array:
        element = {**param, "type": array.group(1)}
        return [_json_value(element, item) for item in value]
    if kind == "tuple":
        return {_param_name(c, i): _json_value(c, v) for i, (c, v) in enumerate(zip(param.get("components", []), value))}
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if kind == "address" and isinstance(value, str):
        return to_checksum_address(value)
    return value
