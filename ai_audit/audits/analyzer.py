"""Slither, run as a subprocess in its own virtualenv (.venv-slither, scripts/install-slither.sh) with
solc-js through the wrapper (`ai_audit.contracts.solc.solc_executable()`), with a time limit.

`analyse(sources, settings, compiler_version)` writes the sources into a fresh temporary directory
(paths checked: relative, no `..`), runs `slither_driver.py` there and returns an `Analysis` with the
normalised findings. Nothing of the input is executed: solc compiles it, slither reads the result.
Settings: `SLITHER_PYTHON` (default `.venv-slither/bin/python`), `SLITHER_TIMEOUT_SECONDS` (180).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings

from ai_audit.audits.findings import FindingError, normalise, sort_key
from ai_audit.contracts.solc import solc_executable
from core.errors import ErrorCode, InvalidInput, Unavailable

DRIVER = Path(__file__).with_name("slither_driver.py")
SAFE_PATH = re.compile(r"[A-Za-z0-9._@+~/-]+")  # e.g. "src/Vault.sol", "@openzeppelin/contracts/token/ERC20.sol"


@dataclass(frozen=True)
class Analysis:
    findings: list
    signals: list
    contracts: list
    analyzer_version: str
    duration_ms: int


def slither_python() -> Path:
    configured = getattr(settings, "SLITHER_PYTHON", "")
    return Path(configured) if configured else Path(settings.BASE_DIR) / ".venv-slither" / "bin" / "python"


def timeout_seconds() -> float:
    return float(getattr(settings, "SLITHER_TIMEOUT_SECONDS", 180))


def analyzer_available() -> bool:
    return slither_python().exists()


def safe_source_path(path: str) -> PurePosixPath:
    """A source path of a standard-JSON input, as a relative path inside the work directory."""
    pure = PurePosixPath(path)
    if (not path or len(path) > 300 or pure.is_absolute() or not SAFE_PATH.fullmatch(path) or str(pure) != path
            or any(part in ("..", "") for part in pure.parts) or not pure.parts):
        raise InvalidInput(ErrorCode.INVALID_SOURCE, f"Source path {path[:100]!r} is not a plain relative path.",
                           {"field": "sources", "path": path[:300]})
    return pure


def analyse(sources: dict, compiler_settings: dict, compiler_version: str) -> Analysis:
    if not analyzer_available():
        raise Unavailable(ErrorCode.ANALYZER_UNAVAILABLE,
                          "Slither is not installed: run scripts/install-slither.sh (make run does).")
    standard = {"language": "Solidity", "sources": {path: {"content": text} for path, text in sources.items()},
                "settings": dict(compiler_settings or {})}
    with tempfile.TemporaryDirectory(prefix="audit-") as work:
        for path, text in sources.items():
            target = Path(work, *safe_source_path(path).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        request = json.dumps({"solc": str(solc_executable()), "input": standard}).encode()
        env = {"PATH": os.environ.get("PATH", ""), "HOME": work, "SOLC_VERSION": compiler_version,
               "PYTHONDONTWRITEBYTECODE": "1"}
        started = time.monotonic()
        process = subprocess.Popen([str(slither_python()), "-I", str(DRIVER)], cwd=work, env=env, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            stdout, stderr = process.communicate(request, timeout=timeout_seconds())
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # slither and the solc it started
            process.communicate()
            raise Unavailable(ErrorCode.ANALYZER_UNAVAILABLE,
                              f"The analysis took longer than {timeout_seconds():.0f} s and was stopped.") from None
        duration_ms = int((time.monotonic() - started) * 1000)
    try:
        answer = json.loads(stdout.decode() or "null")
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        tail = stderr.decode(errors="replace").strip()[-400:]
        raise Unavailable(ErrorCode.ANALYZER_UNAVAILABLE, f"Slither gave no answer (exit {process.returncode}). {tail}")
    if not answer.get("ok"):
        error = str(answer.get("error", "unknown error"))
        if "InvalidCompilation" in error or "compil" in error.lower():
            raise InvalidInput(ErrorCode.COMPILATION_FAILED, "The source does not compile: " + error[:600],
                               {"field": "source"})
        raise Unavailable(ErrorCode.ANALYZER_UNAVAILABLE, "Slither failed: " + error[:600])
    findings = []
    for result in answer.get("detectors", []):
        try:
            findings.append(normalise(result))
        except FindingError:
            continue
    return Analysis(findings=sorted(findings, key=sort_key), signals=list(answer.get("signals", [])),
                    contracts=list(answer.get("contracts", [])), analyzer_version=str(answer.get("slither_version", "")),
                    duration_ms=duration_ms)
