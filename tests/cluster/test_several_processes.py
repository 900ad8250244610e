"""The production shape on one machine (issue 17, "beyond one machine"): Redis for the task queue,
the channel layer and the cache; two daphne processes and two huey consumers against one database.
An event raised in a worker reaches WebSocket clients connected to either server, and a periodic job
that both consumers' schedulers enqueue runs once per schedule slot."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from websockets.sync.client import connect as ws_connect

pytestmark = pytest.mark.django_db(transaction=True)
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
        self.tmp, self.processes, self.http_ports = tmp, [], []

    def start(self, name, args, env):
        log = self.tmp / f"{name}.log"
        handle = open(log, "w")
        process = subprocess.Popen(args, env=env, cwd=settings.BASE_DIR, stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append((process, str(log)))
        return process

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


@pytest.fixture
def cluster(tmp_path, db):
    redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"
    assert Path(redis_server).exists(), "redis-server is missing: scripts/install-debian-packages.sh installs it"
    running = Cluster(tmp_path)
    redis_port = _free_port()
    running.start("redis", [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--dir", str(tmp_path)], os.environ.copy())
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
           "MONGODB_URI": settings.DATABASES["default"]["HOST"], "MONGODB_NAME": connection.settings_dict["NAME"],
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "ETH_RPC_URL": settings.ETH_RPC_URL,
           "EMAIL_HOST": settings.EMAIL_HOST, "EMAIL_PORT": str(settings.EMAIL_PORT), "HUEY_IMMEDIATE": "false",
           "LOAD_DEMO_DATA": "false", "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO", "LOG_TO_FILES": "false"}
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


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Listener(threading.Thread):
    """A WebSocket client of one server, collecting the events it is sent."""

    def __init__(self, port, path, cookie):
        super().__init__(daemon=True)
        self.url, self.headers = f"ws://127.0.0.1:{port}{path}", {
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}", "Origin": f"http://127.0.0.1:{port}"}
        self.events, self.stopped, self.error = [], threading.Event(), None

    def run(self):
        try:
            with ws_connect(self.url, open_timeout=60, additional_headers=self.headers) as websocket:
                while not self.stopped.is_set():
                    try:
                        self.events.append(json.loads(websocket.recv(timeout=1)))
                    except TimeoutError:
                        continue
        except Exception as exc:  # closed by the server, or never opened: the test says so
            self.error = exc

    def close(self):
        self.stopped.set()
        self.join(timeout=30)


def test_an_event_raised_in_a_worker_reaches_clients_of_either_server(cluster, make_user):
    user = make_user(role="MANAGER")
    cookie = _session_cookie(user)
    listeners = [Listener(port, "/ws/admin/task-logs/", cookie) for port in cluster.http_ports]
    try:
        for listener in listeners:
            listener.start()
        _wait(lambda: all(any(e["type"] == "connected" for e in l.events) for l in listeners), "both sockets joined",
              cluster.processes)
        # Start a tracked task through the first server; one of the two consumers runs it.
        http = requests.Session()
        http.cookies.set(settings.SESSION_COOKIE_NAME, cookie)
        base = f"http://127.0.0.1:{cluster.http_ports[0]}"
        http.get(f"{base}/app/", timeout=60)
        response = http.post(f"{base}/app/task-runs/start/", timeout=60, allow_redirects=False,
                             headers={"X-CSRFToken": http.cookies.get("csrftoken", ""), "Referer": f"{base}/app/"})
        assert response.status_code in (200, 302), response.text[:500]

        def finished(listener):
            return any(e["type"] == "task_run.updated" and e["data"].get("status") == "SUCCEEDED"
                       for e in listener.events)

        _wait(lambda: all(finished(l) for l in listeners), "the task's events on both servers", cluster.processes)
        for listener in listeners:
            # Each event once: the two servers' relays share the outbox, one forwards each event.
            updates = [json.dumps(e, sort_keys=True) for e in listener.events if e["type"] == "task_run.updated"]
            assert len(updates) == len(set(updates)), updates
            assert listener.error is None, listener.error
    finally:
        for listener in listeners:
            listener.close()


def test_a_periodic_job_runs_once_per_slot_across_two_consumers(cluster):
    """Both consumers' schedulers enqueue every-minute jobs at each minute; for each slot one run does
    the work and the other sees the slot taken (core.scheduling._slot_claim)."""
    from core.models import TaskRun

    huey_logs = [Path(log) for process, log in cluster.processes if "run_huey" in " ".join(map(str, process.args))]
    assert len(huey_logs) == 2
    taken = "price_alerts: the run of slot"
    _wait(lambda: any(taken in log.read_text() for log in huey_logs), "a slot claimed by the other consumer",
          cluster.processes, timeout=DEADLINE + 120)  # the next minute boundary, on a loaded machine
    runs = list(TaskRun.objects.filter(name="price_alerts").order_by("created_at"))
    refused = sum(log.read_text().count(taken) for log in huey_logs)
    assert runs and refused >= 1
    # Never two runs of one slot: the slots each run claimed are distinct.
    slots = [line.split(taken, 1)[1].split()[0] for log in huey_logs for line in log.read_text().splitlines()
             if taken in line]
    assert len(set(slots)) == len(slots)
