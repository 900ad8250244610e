#!/usr/bin/env bash
# The whole suite: unit + integration tests, then the browser tests in their own pytest process
# (Playwright's sync API and pytest-asyncio cannot share one). Extra arguments go to the first run.
# The first run is spread over pytest-xdist workers, one more than the cores (TEST_WORKERS=N to
# choose, 0 for one process): a worker's tests and its database server take turns, and many tests wait
# on processes, chains and sockets, so one worker per core leaves cores idle (2 cores: 770 s with 3
# workers, 1,014 s with 2). Each worker starts its own database, chain and mail server (the chain and
# the mail server on demand, on another free port if the one chosen at start was taken since), and
# keeps a test file's tests together so module fixtures are built once.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
workers="${TEST_WORKERS:-$(( $(nproc) + 1 ))}"
.venv/bin/python -m pytest -n "$workers" --dist loadfile "$@" || status=$?
BROWSER_TESTS=1 DJANGO_ALLOW_ASYNC_UNSAFE=true .venv/bin/python -m pytest tests/browser -p no:asyncio \
    -W ignore::pytest.PytestConfigWarning || status=$?
exit $status
