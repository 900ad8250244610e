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


@pytest.fixture
def live_url(transactional_db):
    """Base URL of a real daphne (ASGI: HTTP + websockets) serving the test database."""
    port = localstack.free_port()
    env = {
        "MONGODB_URI": settings.DATABASES["default"]["HOST"],
        "MONGODB_NAME": connection.settings_dict["NAME"],
        "DATA_DIR": str(settings.DATA_DIR),
        "EMBEDDED_SMTP_PORT": str(settings.EMAIL_PORT),
        "ETH_RPC_URL": settings.ETH_RPC_URL,
        "ETH_CHAIN_ID": str(settings.ETH_CHAIN_ID),
        "HUEY_IMMEDIATE": "true",
        "DEBUG": "true",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    server = localstack.ManagedProcess(
        "daphne",
        [str(localstack.Path(os.sys.executable).with_name("daphne")), "-b", "127.0.0.1", "-p", str(port),
         "config.asgi:application"],
        log_path=localstack.Path(settings.DATA_DIR) / "log" / f"daphne-{port}.log",
        env=env,
    ).start()
    url = f"http://127.0.0.1:{port}"

    def ready():
        try:
            with urllib.request.urlopen(f"{url}/api/system/health/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # answering at all is enough here
        except Exception:
            return False

    server.wait_until(ready, timeout=180, what="HTTP")  # generous: a loaded CI machine starts daphne slowly
    yield url
    server.stop()
