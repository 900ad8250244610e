#!/usr/bin/env bash
# The whole suite: unit + integration tests, then the browser tests in their own pytest process
# (Playwright's sync API and pytest-asyncio cannot share one). Extra arguments go to the first run.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
.venv/bin/python -m pytest "$@" || status=$?
BROWSER_TESTS=1 DJANGO_ALLOW_ASYNC_UNSAFE=true .venv/bin/python -m pytest tests/browser -p no:asyncio \
    -W ignore::pytest.PytestConfigWarning || status=$?
exit $status
