"""Browser tests: Debian's chromium driven by Playwright against a real daphne server.

Run in their own pytest invocation (`BROWSER_TESTS=1 pytest tests/browser`): Playwright's sync API
and pytest-asyncio do not share one process well (stack.md).
"""

import os
import shutil
import urllib.request

import pytest
from django.conf import settings
from django.db import connection

from playwright.sync_api import expect

from core import localstack

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# CI machines are shared: give pages 15 s rather than 5 s before an expectation fails.
expect.set_options(timeout=15_000)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--headless",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


SERVER_START_SECONDS = 300  # daphne imports every app; on a loaded shared machine that took 150 s


def daphne_start(port: int | None = None, log_suffix: str = "") -> tuple[localstack.ManagedProcess, str]:
    """A real daphne (ASGI: HTTP + websockets) serving the test database, once it answers."""
    port = port or localstack.free_port()
    env = {
        "MONGODB_URI": settings.DATABASES["default"]["HOST"],
        "MONGODB_NAME": connection.settings_dict["NAME"],
        "DATA_DIR": str(settings.DATA_DIR),
        "EMBEDDED_SMTP_PORT": str(settings.EMAIL_PORT),
        "ETH_RPC_URL": settings.ETH_RPC_URL,
        "ETH_CHAIN_ID": str(settings.ETH_CHAIN_ID),
        "ETH_CONFIRMATIONS": str(settings.ETH_CONFIRMATIONS),
        "HUEY_IMMEDIATE": "true",
        "DEBUG": "true",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    server = localstack.ManagedProcess(
        "daphne",
        [str(localstack.Path(os.sys.executable).with_name("daphne")), "-b", "127.0.0.1", "-p", str(port),
         "config.asgi:application"],
        log_path=localstack.Path(settings.DATA_DIR) / "log" / f"daphne-{port}{log_suffix}.log",
        env=env,
    ).start()
    url = f"http://127.0.0.1:{port}"

    def ready():
        try:
            with urllib.request.urlopen(f"{url}/api/system/health/", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # answering at all is enough here
        except Exception:
            return False

    server.wait_until(ready, timeout=SERVER_START_SECONDS, what="HTTP")
    return server, url


@pytest.fixture(scope="session")
def _shared_daphne(django_db_setup, django_db_blocker):
    """One daphne for the whole browser run (starting one takes seconds): it holds no state of its
    own between tests (sessions, caches keyed by new ids, data in the per-test database)."""
    server, url = daphne_start()
    yield url
    server.stop()


@pytest.fixture
def live_url(transactional_db, _shared_daphne):
    """Base URL of the shared real daphne serving the test database (emptied after each test)."""
    return _shared_daphne
