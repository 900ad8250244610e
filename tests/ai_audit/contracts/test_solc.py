"""The solc-js entry point: the wrapper behaves like native solc; compile errors are domain errors."""

import json
import os
import subprocess

import pytest

from ai_audit.contracts import solc
from core.errors import ErrorCode, InvalidInput

SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;
contract Counter { uint256 public count; function bump() external { count += 1; } }
"""


def _input(source=SOURCE):
    return {
        "language": "Solidity",
        "sources": {"Counter.sol": {"content": source}},
        "settings": {"outputSelection": {"*": {"*": ["abi", "evm.deployedBytecode.object"]}}},
    }


def test_pinned_versions_are_installed_newest_first():
    versions = solc.solc_versions()
    assert versions[0] == "0.8.37"
    assert {"0.8.30", "0.8.26", "0.8.20"} <= set(versions)
    assert versions == sorted(versions, key=lambda v: tuple(map(int, v.split("."))), reverse=True)


def test_wrapper_prints_native_version_format():
    for version in ("0.8.37", "0.8.20"):
        done = subprocess.run(
            [str(solc.solc_executable()), "--version"],
            capture_output=True, text=True, timeout=120, env={**os.environ, "SOLC_VERSION": version}, check=True,
        )
        lines = done.stdout.splitlines()
        assert lines[0] == "solc, the solidity compiler commandline interface"
        assert lines[1].startswith(f"Version: {version}+commit.") and lines[1].endswith(".Linux.g++")


def test_wrapper_standard_json_prints_only_json_and_ignores_path_flags(tmp_path):
    (tmp_path / "Lib.sol").write_text("// SPDX-License-Identifier: MIT\npragma solidity ^0.8.0; library L { }\n")
    standard = {
        "language": "Solidity",
        "sources": {
            "Main.sol": {"content": 'pragma solidity ^0.8.0; import "Lib.sol"; contract M { }'},
        },
        "settings": {"outputSelection": {"*": {"*": ["abi"]}}},
    }
    done = subprocess.run(
        [str(solc.solc_executable()), "--standard-json", "--allow-paths", str(tmp_path), "--base-path", str(tmp_path)],
        input=json.dumps(standard), capture_output=True, text=True, timeout=120, check=True,
    )
    output = json.loads(done.stdout)  # nothing but the JSON
    assert set(output["contracts"]) == {"Main.sol", "Lib.sol"}


def test_compile_returns_runtime_code_per_version():
    new = solc.compile_standard_json(_input(), version="0.8.37")
    old = solc.compile_standard_json(_input(), version="v0.8.20+commit.a1b79de6")
    code_new = new["contracts"]["Counter.sol"]["Counter"]["evm"]["deployedBytecode"]["object"]
    code_old = old["contracts"]["Counter.sol"]["Counter"]["evm"]["deployedBytecode"]["object"]
    assert code_new and code_old and code_new != code_old


def test_compile_error_is_invalid_input_with_messages():
    with pytest.raises(InvalidInput) as caught:
        solc.compile_standard_json(_input("pragma solidity ^0.8.0; contract Broken { function f( }"), version="0.8.37")
    assert caught.value.code == ErrorCode.COMPILATION_FAILED
    assert caught.value.details["errors"] and "ParserError" in caught.value.details["errors"][0]


def test_unknown_version_is_refused_with_the_supported_list():
    with pytest.raises(InvalidInput) as caught:
        solc.compile_standard_json(_input(), version="0.7.6")
    assert caught.value.code == ErrorCode.UNSUPPORTED_COMPILER
    assert "0.8.37" in caught.value.details["supported"]


def test_time_limit_is_a_domain_error(settings):
    from core.errors import Unavailable

    settings.SOLC_TIMEOUT_SECONDS = 0.01
    with pytest.raises(Unavailable) as caught:
        solc.compile_standard_json(_input(), version="0.8.37")
    assert caught.value.code == ErrorCode.COMPILER_UNAVAILABLE
