"""The one entry point to the Solidity compiler (solc-js from npm, several pinned versions).

Interface. The versions are npm packages pinned in package.json (`solc` = the newest, plus aliases
`solc-0.8.NN` = `npm:solc@0.8.NN`); `solc_versions()` lists the installed ones, newest first, as
plain "0.8.37" strings. `compile_standard_json(standard_input, *, version=...)` runs the wrapper
`scripts/solc --standard-json` (SOLC_VERSION=version in its environment) in a subprocess with a time
limit (`SOLC_TIMEOUT_SECONDS`, default 120 s) and returns solc's standard-JSON output as a dict; it
raises `InvalidInput(UNSUPPORTED_COMPILER)` for a version not installed, `InvalidInput(COMPILATION_FAILED)`
when solc reports errors of severity "error" (details: the errors' formatted messages), and
`Unavailable(COMPILER_UNAVAILABLE)` when node is missing, the run times out or prints no JSON.
`solc_executable()` is the path of `scripts/solc`, a native-solc look-alike (`--version`,
`--standard-json`, other flags ignored) that slither/crytic-compile call as `--solc <path>`; pick its
version with the environment variable `SOLC_VERSION` (default: the newest installed).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from core.errors import ErrorCode, InvalidInput, Unavailable

_ROOT = Path(settings.BASE_DIR)
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def solc_executable() -> Path:
    """The native-solc look-alike wrapper (scripts/solc)."""
    return _ROOT / "scripts" / "solc"


def _node_modules() -> Path:
    return _ROOT / "node_modules"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@lru_cache(maxsize=1)
def _installed() -> dict[str, Path]:
    found: dict[str, Path] = {}
    root = _node_modules()
    if not root.is_dir():
        return found
    for entry in root.iterdir():
        if entry.name != "solc" and not entry.name.startswith("solc-"):
            continue
        try:
            package = json.loads((entry / "package.json").read_text())
        except (OSError, ValueError):
            continue
        version = str(package.get("version", ""))
        if package.get("name") == "solc" and _VERSION.match(version) and (entry / "soljson.js").exists():
            found[version] = entry
    return found


def solc_versions() -> list[str]:
    """The installed solc-js versions, newest first (e.g. ["0.8.37", "0.8.30", ...])."""
    return sorted(_installed(), key=_version_key, reverse=True)


def normalize_version(version: str) -> str:
    """ "v0.8.20+commit.a1b79de6" -> "0.8.20"; raises InvalidInput when it is not installed."""
    plain = (version or "").strip().removeprefix("v").split("+", 1)[0]
    if plain not in _installed():
        raise InvalidInput(
            ErrorCode.UNSUPPORTED_COMPILER,
            f"Compiler version {version or '(empty)'} is not supported; supported: {', '.join(solc_versions())}.",
            {"field": "compiler_version", "supported": solc_versions()},
        )
    return plain


def _timeout() -> float:
    return float(getattr(settings, "SOLC_TIMEOUT_SECONDS", 120))


def compile_standard_json(standard_input: dict, *, version: str) -> dict:
    """Compile a standard-JSON input with solc-js `version`; the standard-JSON output as a dict."""
    plain = normalize_version(version)
    env = {**os.environ, "SOLC_VERSION": plain}
    try:
        done = subprocess.run(
            [str(solc_executable()), "--standard-json"],
            input=json.dumps(standard_input).encode(),
            capture_output=True,
            timeout=_timeout(),
            env=env,
            cwd=str(_ROOT),
            check=False,
        )
    except FileNotFoundError as error:
        raise Unavailable(ErrorCode.COMPILER_UNAVAILABLE, f"The Solidity compiler cannot start: {error}.") from error
    except subprocess.TimeoutExpired as error:
        raise Unavailable(
            ErrorCode.COMPILER_UNAVAILABLE, f"The Solidity compiler took longer than {_timeout():.0f} s."
        ) from error
    try:
        output = json.loads(done.stdout.decode() or "null")
    except ValueError:
        output = None
    if not isinstance(output, dict):
        stderr = done.stderr.decode(errors="replace").strip()[-500:]
        raise Unavailable(
            ErrorCode.COMPILER_UNAVAILABLE,
            f"The Solidity compiler gave no answer (exit {done.returncode}). {stderr}".strip(),
        )
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        messages = [str(e.get("formattedMessage") or e.get("message") or "") for e in errors]
        raise InvalidInput(
            ErrorCode.COMPILATION_FAILED,
            "The source does not compile: " + (errors[0].get("message") or "error") + ".",
            {"field": "source", "errors": messages[:20]},
        )
    return output
