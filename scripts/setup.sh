#!/usr/bin/env bash
# Idempotent setup: virtualenv + pinned Python packages, npm packages (anvil, solc-js) and, with
# --test, the Debian packages the test suite needs. Each step is skipped when its lock file is
# unchanged since the last successful run, so a second run takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

stamp_ok() {  # stamp_ok <lock file> <stamp file>
    [ -f "$2" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$(cat "$2")" ]
}
stamp_write() { sha256sum "$1" | cut -d' ' -f1 > "$2"; }

if [ ! -x .venv/bin/python ]; then
    echo "==> creating virtualenv (.venv) with $("$PYTHON" --version)"
    "$PYTHON" -m venv .venv
fi
if ! stamp_ok requirements.lock .venv/.requirements.sha256; then
    echo "==> installing Python packages (requirements.lock)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
    stamp_write requirements.lock .venv/.requirements.sha256
fi

if ! stamp_ok package-lock.json node_modules/.package-lock.sha256; then
    command -v npm >/dev/null 2>&1 || { echo "npm is required (Node 20+)" >&2; exit 1; }
    echo "==> installing npm packages (package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error
    stamp_write package-lock.json node_modules/.package-lock.sha256
fi
bash scripts/install-slither.sh  # slither in its own venv (.venv-slither; it pins web3<8)

if [ "${1:-}" = "--test" ]; then
    bash scripts/install-debian-packages.sh
fi
