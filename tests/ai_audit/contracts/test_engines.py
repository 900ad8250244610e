"""The pure parts: bytecode comparison (metadata, immutables) and ABI argument checks."""

import pytest
from eth_utils import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from ai_audit.contracts import abi_args, bytecode

# A CBOR trailer as solc writes it: a2 64 'ipfs' 58 22 <34 bytes> 64 'solc' 43 <3 bytes>, then its length.
def trailer(fill: int, version=(0, 8, 37)) -> bytes:
    body = bytes([0xA2, 0x64]) + b"ipfs" + bytes([0x58, 0x22]) + bytes([fill]) * 34 + bytes([0x64]) + b"solc"
    body += bytes([0x43, *version])
    return body + len(body).to_bytes(2, "big")


CODE = bytes.fromhex("6080604052348015600e575f5ffd5b50") * 4


def test_metadata_trailer_is_found_and_stripped():
    code = CODE + trailer(1)
    assert bytecode.metadata_length(code) == len(trailer(1))
    assert bytecode.strip_metadata(code) == CODE
    assert bytecode.metadata_length(CODE) == 0  # no trailer: nothing cut
    assert bytecode.metadata_length(b"\x00") == 0


def test_only_metadata_differs_is_a_match_with_a_note():
    result = bytecode.compare_runtime(onchain=CODE + trailer(1), compiled=CODE + trailer(2))
    assert result.matches and result.metadata_differs and "metadata hash differs" in result.summary


def test_immutables_are_ignored_only_where_the_compiler_says():
    references = {"7": [{"start": 4, "length": 32}]}
    compiled = CODE[:4] + bytes(32) + CODE[36:]
    onchain = CODE[:4] + bytes([0xAB]) * 32 + CODE[36:]
    assert bytecode.compare_runtime(onchain=onchain + trailer(1), compiled=compiled + trailer(1),
                                    immutable_references=references).matches
    assert not bytecode.compare_runtime(onchain=onchain, compiled=compiled).matches
    elsewhere = bytearray(onchain)
    elsewhere[40] ^= 0xFF
    result = bytecode.compare_runtime(onchain=bytes(elsewhere), compiled=compiled, immutable_references=references)
    assert not result.matches and result.first_difference == 40 and result.differing_bytes == 1


def test_mismatch_summary_and_empty_code():
    result = bytecode.compare_runtime(onchain=CODE + b"\x00", compiled=CODE)
    assert not result.matches and "lengths differ" in result.summary
    assert bytecode.compare_runtime(onchain=b"", compiled=CODE).summary == "There is no code at this address."


@given(st.binary(min_size=0, max_size=200), st.integers(0, 255))
def test_any_code_with_a_trailer_strips_back(code, fill):
    assert bytecode.strip_metadata(code + trailer(fill)) == code


TRANSFER = {"type": "function", "name": "transfer", "stateMutability": "nonpayable",
            "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint8"}], "outputs": []}
ADDRESS = to_checksum_address("0x" + "ab" * 20)


@given(st.integers(-300, 600))
def test_uint8_bounds(number):
    if 0 <= number <= 255:
        assert abi_args.arguments_coerce(TRANSFER, [ADDRESS, number]) == [ADDRESS, number]
    else:
        with pytest.raises(abi_args.ArgumentError) as caught:
            abi_args.arguments_coerce(TRANSFER, [ADDRESS, str(number)])
        assert caught.value.argument == "amount"


def test_address_checksum_rules():
    assert abi_args.arguments_coerce(TRANSFER, [ADDRESS.lower(), 1])[0] == ADDRESS
    wrong = ADDRESS[:2] + ADDRESS[2:].swapcase()
    if wrong != wrong.lower() and wrong != wrong.upper():
        with pytest.raises(abi_args.ArgumentError, match="checksum"):
            abi_args.arguments_coerce(TRANSFER, [wrong, 1])
    with pytest.raises(abi_args.ArgumentError) as caught:
        abi_args.arguments_coerce(TRANSFER, {"to": "0x12", "amount": 1})
    assert caught.value.argument == "to"


def test_nested_types_name_the_argument():
    function = {"type": "function", "name": "f", "inputs": [
        {"name": "who", "type": "address[2]"},
        {"name": "order", "type": "tuple", "components": [{"name": "price", "type": "int8"},
                                                           {"name": "tag", "type": "bytes4"}]},
        {"name": "ok", "type": "bool"}, {"name": "blob", "type": "bytes"}], "outputs": []}
    values = abi_args.arguments_coerce(function, [[ADDRESS, ADDRESS], {"price": -5, "tag": "0x01"}, "true", "0x"])
    assert values == [[ADDRESS, ADDRESS], (-5, b"\x01\x00\x00\x00"), True, b""]
    for args, argument in (
        ([[ADDRESS], [1, "0x01"], True, "0x"], "who"),
        ([[ADDRESS, "x"], [1, "0x01"], True, "0x"], "who[1]"),
        ([[ADDRESS, ADDRESS], {"price": 200, "tag": "0x01"}, True, "0x"], "order.price"),
        ([[ADDRESS, ADDRESS], [1, "0x0102030405"], True, "0x"], "order.tag"),
        ([[ADDRESS, ADDRESS], [1, "0x01"], "yes", "0x"], "ok"),
        ([[ADDRESS, ADDRESS], [1, "0x01"], True, "zz"], "blob"),
    ):
        with pytest.raises(abi_args.ArgumentError) as caught:
            abi_args.arguments_coerce(function, args)
        assert caught.value.argument == argument
    assert abi_args.signature(function) == "f(address[2],(int8,bytes4),bool,bytes)"


def test_overloads_and_abi_check():
    abi = [TRANSFER, {**TRANSFER, "inputs": TRANSFER["inputs"][:1]}]
    with pytest.raises(abi_args.ArgumentError, match="overloaded"):
        abi_args.function_find(abi, "transfer")
    assert abi_args.function_find(abi, "transfer(address)")["inputs"] == TRANSFER["inputs"][:1]
    assert abi_args.function_find(abi, "nothing") is None
    for bad in ({"type": "function"}, [{"type": "weird", "name": "x"}], [{"name": "f", "inputs": [{"name": "a"}]}]):
        with pytest.raises(abi_args.AbiError):
            abi_args.abi_check(bad)


def test_results_are_json_safe():
    outputs = [{"name": "n", "type": "uint256"}, {"name": "b", "type": "bytes32"}, {"name": "a", "type": "address[]"}]
    decoded = abi_args.result_decode(outputs, (2**200, b"\x01" * 32, [ADDRESS.lower()]))
    assert decoded == [{"name": "n", "type": "uint256", "value": str(2**200)},
                       {"name": "b", "type": "bytes32", "value": "0x" + "01" * 32},
                       {"name": "a", "type": "address[]", "value": [ADDRESS]}]
