"""The several-process shape for the cluster tests: Redis (Debian's redis-server), two daphne
processes and two huey consumers (`run_huey --workers 2` each) against the test's database and node.

`cluster_running(tmp)` starts it and yields a `Cluster` (its processes, their log files, the daphne
ports, the env every process got); `cluster` is the per-test form. `_wait` polls a predicate and
fails at once, with the log, if a process of the cluster exited."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

DEADLINE = 180  # seconds: generous, the machine may be loaded; nothing asserts a duration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, what, processes, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for process, log in processes:
            if process.poll() is not None:
                raise AssertionError(f"a process of the cluster exited ({process.args}):\n{Path(log).read_text()[-3000:]}")
        try:
            if predicate():
                return
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


class Cluster:
    def __init__(self, tmp: Path):
        self.tmp, self.processes, self.http_ports, self.env = tmp, [], [], {}

    def start(self, name, args, env):
        log = self.tmp / f"{name}.log"
        handle = open(log, "w")
        process = subprocess.Popen(args, env=env, cwd=settings.BASE_DIR, stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append((process, str(log)))
        return process

    def huey_logs(self) -> list[Path]:
        return [Path(log) for process, log in self.processes if "run_huey" in " ".join(map(str, process.args))]

    def stop(self):
        for process, _ in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _ in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)


@contextmanager
def cluster_running(tmp: Path):
    """Redis, two daphne and two huey consumers on the test database, the test's node and mail server."""
    redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"
    assert Path(redis_server).exists(), "redis-server is missing: scripts/install-debian-packages.sh installs it"
    running = Cluster(tmp)
    redis_port = _free_port()
    running.start("redis", [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--dir", str(tmp)], os.environ.copy())
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
           "MONGODB_URI": settings.DATABASES["default"]["HOST"], "MONGODB_NAME": connection.settings_dict["NAME"],
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "ETH_RPC_URL": settings.ETH_RPC_URL,
           "ETH_CONFIRMATIONS": str(settings.ETH_CONFIRMATIONS),
           "EMAIL_HOST": settings.EMAIL_HOST, "EMAIL_PORT": str(settings.EMAIL_PORT), "HUEY_IMMEDIATE": "false",
           "LOAD_DEMO_DATA": "false", "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO", "LOG_TO_FILES": "false"}
    running.env = env
    try:
        _wait(lambda: socket.create_connection(("127.0.0.1", redis_port), timeout=1).close() or True, "redis",
              running.processes)
        for n in range(2):
            port = _free_port()
            running.http_ports.append(port)
            running.start(f"daphne-{n}", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                          "config.asgi:application"], env)
        for n in range(2):
            running.start(f"huey-{n}", [sys.executable, "manage.py", "run_huey", "--workers", "2"], env)
        for port in running.http_ports:
            _wait(lambda port=port: requests.get(f"http://127.0.0.1:{port}/api/system/health/", timeout=10).status_code
                  in (200, 503), f"daphne on {port}", running.processes)
        yield running
    finally:
        running.stop()


@pytest.fixture
def cluster(tmp_path, db):
    with cluster_running(tmp_path) as running:
        yield running
