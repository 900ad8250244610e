#!/usr/bin/env bash
# Slither (static analysis of Solidity) in its own virtualenv, .venv-slither: slither-analyzer pins
# web3<8 and the app uses web3 8, so it never goes into .venv. The app calls it as a subprocess
# (.venv-slither/bin/slither) with scripts/solc (solc-js) as the compiler. Idempotent: skipped when
# the pinned version below is unchanged since the last successful run (stamp in the venv).
set -euo pipefail
cd "$(dirname "$0")/.."

SLITHER_PIN="slither-analyzer==0.11.6"
VENV=.venv-slither
STAMP="$VENV/.slither.pin"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

if [ -x "$VENV/bin/slither" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$SLITHER_PIN" ]; then
    exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating virtualenv ($VENV) for slither"
    "$PYTHON" -m venv "$VENV"
fi
echo "==> installing $SLITHER_PIN into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SLITHER_PIN"
"$VENV/bin/slither" --version >/dev/null
echo "$SLITHER_PIN" > "$STAMP"
