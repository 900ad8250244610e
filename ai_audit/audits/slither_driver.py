"""Run slither on a standard-JSON input: THIS FILE RUNS INSIDE .venv-slither (scripts/install-slither.sh),
never in the app's process. `ai_audit/audits/analyzer.py` starts it as a subprocess:

    .venv-slither/bin/python slither_driver.py < request.json > answer.json

request: {"solc": path of scripts/solc, "input": a solc standard-JSON input}; the working directory
holds the sources under their paths (slither reads them back for source mappings); the environment's
SOLC_VERSION picks the compiler. answer (one JSON object on stdout):
{"ok": true, "slither_version", "detectors": [slither's detector results], "signals": [names],
 "contracts": [names]} or {"ok": false, "error": text}.
It only compiles and analyses; nothing of the input is ever executed.
"""

import contextlib
import inspect
import io
import json
import re
import sys
from importlib import metadata

MINT = re.compile(r"mint", re.IGNORECASE)


def _detector_classes():
    from slither.detectors import all_detectors
    from slither.detectors.abstract_detector import AbstractDetector

    found = []
    for name in dir(all_detectors):
        value = getattr(all_detectors, name)
        if inspect.isclass(value) and issubclass(value, AbstractDetector):
            found.append(value)
    return found


def _owner_guarded(function) -> bool:
    if any("owner" in m.name.lower() or m.name.lower().startswith("only") for m in function.modifiers):
        return True
    read = {v.name for v in function.all_conditional_solidity_variables_read()}
    return "msg.sender" in read


def _signals(slither) -> list:
    from slither.slithir.operations import LowLevelCall, SolidityCall

    signals = set()
    for contract in slither.contracts_derived:
        if getattr(contract, "is_upgradeable_proxy", False):
            signals.add("upgradeable_proxy")
        for function in contract.functions:
            if function.contract_declarer.is_interface or not function.is_implemented:
                continue
            if (MINT.search(function.name) and function.visibility in ("public", "external")
                    and function.state_variables_written and _owner_guarded(function)):
                signals.add("owner_only_mint")
            for operation in function.slithir_operations:
                if isinstance(operation, SolidityCall) and operation.function.name.startswith(("selfdestruct", "suicide")):
                    signals.add("selfdestruct")
                if isinstance(operation, LowLevelCall) and operation.function_name == "delegatecall":
                    signals.add("delegatecall")
    return sorted(signals)


def main() -> int:
    request = json.load(sys.stdin)
    out = sys.stdout
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured):  # keep stdout for the one JSON answer
            from crytic_compile import CryticCompile
            from crytic_compile.platform.solc_standard_json import SolcStandardJson
            from slither import Slither

            standard = request["input"]
            standard.setdefault("settings", {}).pop("outputSelection", None)  # crytic-compile sets its own
            compilation = CryticCompile(SolcStandardJson(standard), solc=request["solc"])
            slither = Slither(compilation)
            for detector in _detector_classes():
                slither.register_detector(detector)
            results = [result for batch in slither.run_detectors() for result in batch if result]
            answer = {"ok": True, "slither_version": metadata.version("slither-analyzer"), "detectors": results,
                      "signals": _signals(slither), "contracts": sorted({c.name for c in slither.contracts_derived})}
    except Exception as error:  # noqa: BLE001 - every failure is reported as data to the app
        answer = {"ok": False, "error": f"{type(error).__name__}: {error}"[:4000]}
    json.dump(answer, out)
    out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
