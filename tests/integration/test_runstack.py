"""`manage.py runstack` (what `make run` runs) brings the whole app up on embedded services, stops
every process on Ctrl-C, and a second run keeps the data and skips the demo loader."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from core import localstack

pytestmark = pytest.mark.integration


def _start(env, log_path):
    log = open(log_path, "ab")
    return subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "runstack", "--workers", "1"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR, start_new_session=True,
    )


def _wait_for(text, log_path, process, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = log_path.read_text(errors="replace")
        if text in output:
            return output
        if process.poll() is not None:
            raise AssertionError(f"runstack exited early:\n{output[-4000:]}")
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not seen in {timeout}s:\n{log_path.read_text(errors='replace')[-4000:]}")


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _stop(process):
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    return process.wait(timeout=180)


def test_run_stop_and_restart_keeps_data():
    data_dir = Path(tempfile.mkdtemp(prefix="runstack-"))
    ports = {name: localstack.free_port() for name in ("mongo", "eth", "smtp", "app")}
    env = {k: v for k, v in os.environ.items()
           if k not in ("MONGODB_URI", "ETH_RPC_URL", "EMAIL_HOST", "REDIS_URL", "HUEY_IMMEDIATE")}
    env.update({
        "DATA_DIR": str(data_dir),
        "EMBEDDED_MONGODB_PORT": str(ports["mongo"]),
        "EMBEDDED_ETH_PORT": str(ports["eth"]),
        "EMBEDDED_SMTP_PORT": str(ports["smtp"]),
        "APP_PORT": str(ports["app"]),
        "ETH_CHAIN_ID": "31337",
        "EMBEDDED_MONGODB_SYNC_ON_COMMIT": "false",
        "DEBUG": "true",
    })
    log_path = data_dir / "runstack.out"
    base = f"http://127.0.0.1:{ports['app']}"

    process = _start(env, log_path)
    try:
        output = _wait_for("Press Ctrl-C", log_path, process, timeout=600)  # migrate + demo load on a loaded CI box
        assert "loading demo data" in output
        status, body = _get(f"{base}/api/system/health/")
        assert status == 200, body
        components = json.loads(body)["components"]
        assert components["database"]["status"] == "ok"
        assert components["chain"]["status"] == "ok"
        assert components["email"]["status"] == "ok"
        assert _get(f"{base}/admin/login/")[0] == 200
        assert _get(f"{base}/api/docs")[0] == 200
    finally:
        code = _stop(process)
    assert code == 0, log_path.read_text()[-4000:]
    for name, port in ports.items():
        assert not localstack.port_open(port), f"{name} still listening on {port} after Ctrl-C"

    first_run_output = log_path.read_text()
    log_path.write_text("")
    process = _start(env, log_path)
    try:
        # (how fast the second start is belongs to bench/, not to a test: loaded CI machines vary)
        output = _wait_for("Press Ctrl-C", log_path, process, timeout=600)
        assert "loading demo data" not in output  # the data survived: no second demo load
        assert _get(f"{base}/api/system/health/")[0] == 200
    finally:
        assert _stop(process) == 0
    assert "stopped." in first_run_output
