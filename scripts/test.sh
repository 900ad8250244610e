#!/usr/bin/env bash
# The whole suite: unit + integration tests, then the browser tests in their own pytest process
# (Playwright's sync API and pytest-asyncio cannot share one). Extra arguments go to the first run.
# The first run is spread over one pytest-xdist worker per core (TEST_WORKERS=N to choose, 0 for
# one process); each worker starts its own database, chain and mail server, and keeps a test file's
# tests together so module fixtures are built once. (One worker more than the cores was faster, 770 s
# against 1,014 s on 2 cores, but a CI run with it lost the anvil port a worker had chosen at start to
# another process before the chain started on demand: back to one per core until that is fixed.)
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
.venv/bin/python -m pytest -n "${TEST_WORKERS:-auto}" --dist loadfile "$@" || status=$?
BROWSER_TESTS=1 DJANGO_ALLOW_ASYNC_UNSAFE=true .venv/bin/python -m pytest tests/browser -p no:asyncio \
    -W ignore::pytest.PytestConfigWarning || status=$?
exit $status
