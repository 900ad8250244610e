"""Local stand-ins for the external services: the embedded MongoDB-wire server (SecantusDB), an anvil
Ethereum node and an SMTP catcher. Used by `manage.py runstack` and by the test harness, so both run
the very same processes. No Django imports: the test harness loads this before settings exist.
"""

from __future__ import annotations

import email
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pymongo

BASE_DIR = Path(__file__).resolve().parent.parent
ANVIL_BINARY = BASE_DIR / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
# anvil's well-known dev mnemonic: account 0 funds the demo wallets. Never used outside dev/test.
ANVIL_DEV_MNEMONIC = "test test test test test test test test test test test junk"
ANVIL_DEV_CHAIN_ID = 31337


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class ServiceError(RuntimeError):
    pass


@dataclass
class ManagedProcess:
    """A child process in its own process group, stopped gently (SIGINT/SIGTERM) then firmly."""

    name: str
    argv: list[str]
    log_path: Path | None = None
    env: dict[str, str] | None = None
    cwd: Path = BASE_DIR
    process: subprocess.Popen | None = field(default=None, init=False)

    def start(self) -> "ManagedProcess":
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            out = open(self.log_path, "ab")
        else:
            out = subprocess.DEVNULL
        self.process = subprocess.Popen(
            self.argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.cwd,
            env={**os.environ, **(self.env or {})},
            start_new_session=True,
        )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if not self.alive():
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def wait_until(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise ServiceError(f"{self.name} exited with code {self.process.returncode}{self._log_tail()}")
            if ready():
                return
            time.sleep(0.05)
        self.stop()
        raise ServiceError(f"{self.name} did not become ready ({what}) in {timeout}s{self._log_tail()}")

    def _log_tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return "\n" + self.log_path.read_text(errors="replace")[-2000:]
        return ""


# --- MongoDB-wire server ------------------------------------------------------------------------------
def embedded_mongodb_uri(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


# Under DATA_DIR: where runstack has the embedded server archive its oplog (point-in-time recovery,
# core/oplog_replay.py), next to its storage in DATA_DIR/mongodb.
OPLOG_ARCHIVE_FOLDER = "mongodb-oplog"


def start_embedded_mongodb(
    port: int, storage_path: str | Path, log_path: Path | None = None, sync_on_commit: bool = False,
    oplog_archive_dir: Path | None = None, oplog_max_entries: int | None = None,
) -> ManagedProcess:
    """Start SecantusDB; `storage_path=":memory:"` for tests. Never `--standalone`: transactions
    need the single-node replica-set advertisement. With `oplog_archive_dir` the server writes every
    oplog row it prunes (past one hour or `oplog_max_entries`, default 100,000) to segment files
    there before dropping it: the history point-in-time recovery replays."""
    if port_open(port):
        raise ServiceError(f"port {port} is already in use; is another embedded MongoDB running?")
    if storage_path != ":memory:":
        Path(storage_path).mkdir(parents=True, exist_ok=True)
    argv = [
        str(Path(sys.executable).with_name("secantusd-py")),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--storage-path", str(storage_path),
        "--log-level", "WARNING",
    ]
    if sync_on_commit:
        argv.append("--sync-on-commit")
    if oplog_archive_dir is not None:
        Path(oplog_archive_dir).mkdir(parents=True, exist_ok=True)
        argv += ["--oplog-archive-dir", str(oplog_archive_dir)]
    if oplog_max_entries is not None:
        argv += ["--oplog-max-entries", str(oplog_max_entries)]
    proc = ManagedProcess("embedded MongoDB (SecantusDB)", argv, log_path).start()
    proc.wait_until(lambda: _mongo_ping(port), timeout=60, what="ping")
    return proc


def _mongo_ping(port: int) -> bool:
    if not port_open(port):
        return False
    try:
        client = pymongo.MongoClient(embedded_mongodb_uri(port), serverSelectionTimeoutMS=500)
        try:
            client.admin.command("ping")
            return True
        finally:
            client.close()
    except Exception:  # not ready yet
        return False


# --- Ethereum node -------------------------------------------------------------------------------------
def start_anvil(
    port: int,
    state_path: Path | None = None,
    log_path: Path | None = None,
    chain_id: int = ANVIL_DEV_CHAIN_ID,
    block_time: int | None = None,
    name: str = "anvil",
) -> ManagedProcess:
    """An anvil node answering `chain_id` (31337 for ethereum; runstack's stand-ins for polygon and
    bsc answer 137 and 56), funded by the dev mnemonic, its state kept in `state_path`."""
    if not ANVIL_BINARY.exists():
        raise ServiceError(f"anvil is not installed at {ANVIL_BINARY}: run `make setup`")
    if port_open(port):
        raise ServiceError(f"port {port} is already in use; is another Ethereum node running?")
    argv = [
        str(ANVIL_BINARY),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--chain-id", str(chain_id),
        "--mnemonic", ANVIL_DEV_MNEMONIC,
        "--silent",
    ]
    if state_path is not None:
        state_path.parent.mkdir(parents=True, exist_ok=True)
        # --state loads the file if present and dumps to it on exit: the demo chain survives restarts.
        argv += ["--state", str(state_path), "--state-interval", "30"]  # and every 30 s, against a kill
    if block_time:
        argv += ["--block-time", str(block_time)]
    proc = ManagedProcess(name, argv, log_path).start()
    proc.wait_until(lambda: eth_chain_id(f"http://127.0.0.1:{port}") is not None, timeout=30, what="eth_chainId")
    return proc


def eth_chain_id(url: str, timeout: float = 1.0) -> int | None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(json.loads(response.read())["result"], 16)
    except Exception:
        return None


# --- SMTP -----------------------------------------------------------------------------------------------
class MailStore:
    """aiosmtpd handler keeping every message it receives (and writing it to a folder if given)."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self.messages: list[email.message.Message] = []
        if folder:
            folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        if self.folder:
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{len(self.messages):05d}.eml"
            (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        self.messages.clear()


def start_smtp_process(port: int, folder: Path | None = None, log_path: Path | None = None) -> ManagedProcess:
    """The SMTP catcher as a child process of its own (`python -m core.localstack smtp ...`), so a
    supervisor can restart it like the others."""
    if port_open(port):
        raise ServiceError(f"port {port} is already in use; is another SMTP server running?")
    argv = [sys.executable, "-m", "core.localstack", "smtp", "--port", str(port)]
    if folder is not None:
        argv += ["--folder", str(folder)]
    proc = ManagedProcess("SMTP catcher", argv, log_path).start()
    proc.wait_until(lambda: port_open(port), timeout=30, what="SMTP port")
    return proc


def start_smtp_catcher(port: int, folder: Path | None = None):
    """A real SMTP server on loopback; returns (controller, store). Stop with controller.stop()."""
    from aiosmtpd.controller import Controller  # loaded only by the processes that run the catcher

    store = MailStore(folder)
    controller = Controller(store, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, store


# --- supervision ------------------------------------------------------------------------------------
class SupervisorGaveUp(ServiceError):
    """A child crashed too many times in a row, each soon after its start."""


@dataclass
class _Child:
    name: str
    start: Callable[[], ManagedProcess]
    stop_signal: int
    process: ManagedProcess | None = None
    started_at: float = 0.0
    fast_crashes: int = 0  # consecutive crashes, each within `fast_seconds` of its start
    restart_at: float | None = None  # a restart is scheduled for this monotonic time
    restarts: int = 0


class Supervisor:
    """Keeps a set of child processes running: a child that exits is started again (same command, same
    data folder) after a backoff that doubles with each consecutive fast crash (`backoff_first`,
    x2, ... at most `backoff_max` seconds); after `max_fast_crashes` consecutive crashes each within
    `fast_seconds` of its start, `poll()` raises SupervisorGaveUp. A child that ran longer than
    `fast_seconds` before dying starts the count again. A start that fails (exits or does not
    become ready) counts as a crash. `say(message)` reports every start, crash, restart and
    give-up. Single-threaded: call `poll()` from the main loop."""

    def __init__(self, say: Callable[[str], None], *, max_fast_crashes: int = 5, fast_seconds: float = 30.0,
                 backoff_first: float = 0.5, backoff_max: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.say = say
        self.max_fast_crashes = max_fast_crashes
        self.fast_seconds = fast_seconds
        self.backoff_first = backoff_first
        self.backoff_max = backoff_max
        self.clock = clock
        self.children: list[_Child] = []

    def add(self, name: str, start: Callable[[], ManagedProcess], stop_signal: int = signal.SIGTERM) -> ManagedProcess:
        """Start a child now (a failure here is raised: the stack cannot come up) and supervise it."""
        child = _Child(name, start, stop_signal)
        child.process = start()
        child.started_at = self.clock()
        self.children.append(child)
        self.say(f"supervisor: {name} running (pid {child.process.pid})")
        return child.process

    def process(self, name: str) -> ManagedProcess | None:
        return next((c.process for c in self.children if c.name == name), None)

    def poll(self) -> None:
        now = self.clock()
        for child in self.children:
            if child.restart_at is None and child.process is not None and not child.process.alive():
                self._crashed(child, f"exited with code {child.process.process.returncode}", now)
            if child.restart_at is not None and now >= child.restart_at:
                self._restart(child)
                now = self.clock()

    def _crashed(self, child: _Child, what: str, now: float) -> None:
        lived = now - child.started_at
        child.fast_crashes = child.fast_crashes + 1 if lived < self.fast_seconds else 1
        if child.fast_crashes >= self.max_fast_crashes:
            child.restart_at = None
            message = (f"supervisor: GIVING UP on {child.name}: it {what}, crash {child.fast_crashes} in a row "
                       f"each within {self.fast_seconds:g}s of its start; stopping the stack")
            self.say(message)
            raise SupervisorGaveUp(message + (child.process._log_tail() if child.process else ""))
        delay = min(self.backoff_max, self.backoff_first * 2 ** (child.fast_crashes - 1))
        child.restart_at = now + delay
        self.say(f"supervisor: {child.name} {what} after {lived:.1f}s; restarting in {delay:g}s "
                 f"(fast crash {child.fast_crashes} of at most {self.max_fast_crashes - 1})")

    def _restart(self, child: _Child) -> None:
        child.restart_at = None
        began = self.clock()
        try:
            child.process = child.start()
        except ServiceError as error:
            child.started_at = began
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            self._crashed(child, f"failed to start again ({first_line})", self.clock())
            return
        child.started_at = self.clock()
        child.restarts += 1
        self.say(f"supervisor: {child.name} restarted (pid {child.process.pid}, restart {child.restarts}, "
                 f"ready in {child.started_at - began:.1f}s)")

    def stop_all(self) -> None:
        """Stop every child, last added first."""
        for child in reversed(self.children):
            child.restart_at = None
            if child.process is not None:
                child.process.stop(child.stop_signal)


def _serve_smtp(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m core.localstack smtp")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args(argv)
    controller, _ = start_smtp_catcher(args.port, args.folder)
    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stopping.append(signum))
    try:
        while not stopping:
            time.sleep(0.2)
    finally:
        controller.stop()


if __name__ == "__main__":
    if sys.argv[1:2] != ["smtp"]:
        sys.exit("usage: python -m core.localstack smtp --port PORT [--folder DIR]")
    _serve_smtp(sys.argv[2:])
