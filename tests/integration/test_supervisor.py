"""core.localstack.Supervisor on its own, with real (tiny) child processes: a killed child comes back,
a child that keeps dying soon after its start is given up on loudly, a long-lived one resets the
count. The whole stack under kill -9 is tests/integration/test_runstack_supervision.py."""

import os
import signal
import sys
import time

import pytest

from core import localstack


def sleeper(name="sleeper"):
    return localstack.ManagedProcess(name, [sys.executable, "-c", "import time; time.sleep(120)"]).start()


def crasher():
    return localstack.ManagedProcess("crasher", [sys.executable, "-c", "raise SystemExit(3)"]).start()


def poll_until(supervisor, condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        supervisor.poll()
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_killed_child_is_restarted_and_logged():
    said = []
    supervisor = localstack.Supervisor(said.append, backoff_first=0.05)
    try:
        first = supervisor.add("sleeper", sleeper)
        first_pid = first.pid
        os.kill(first_pid, signal.SIGKILL)
        poll_until(supervisor, lambda: supervisor.process("sleeper").alive()
                   and supervisor.process("sleeper").pid != first_pid)
        assert any("sleeper exited with code -9" in line and "restarting in 0.05s" in line for line in said), said
        assert any(line.startswith("supervisor: sleeper restarted (pid ") for line in said), said
    finally:
        supervisor.stop_all()
    assert not supervisor.process("sleeper").alive()


def test_backoff_doubles_and_it_gives_up_after_n_fast_crashes():
    said = []
    supervisor = localstack.Supervisor(said.append, max_fast_crashes=4, fast_seconds=60, backoff_first=0.01)
    supervisor.add("crasher", crasher)
    with pytest.raises(localstack.SupervisorGaveUp, match="GIVING UP on crasher"):
        poll_until(supervisor, lambda: False)
    delays = [line.split("restarting in ")[1].split("s ")[0] for line in said if "restarting in" in line]
    assert delays == ["0.01", "0.02", "0.04"]
    assert "crash 4 in a row" in said[-1]
    supervisor.stop_all()


def test_a_child_that_ran_long_starts_the_count_again():
    now = [0.0]
    said = []
    supervisor = localstack.Supervisor(said.append, max_fast_crashes=2, fast_seconds=10, backoff_first=0.01,
                                       clock=lambda: now[0])
    try:
        child = supervisor.add("sleeper", sleeper)
        for round_ in range(3):  # each crash after 11 "seconds" of life: never two fast ones in a row
            now[0] += 11
            os.kill(child.pid, signal.SIGKILL)
            child.process.wait(timeout=10)
            supervisor.poll()  # sees the crash: fast crash 1
            now[0] += 1
            supervisor.poll()  # restarts
            child = supervisor.process("sleeper")
            assert child.alive()
        assert sum("restarted" in line for line in said) == 3
        assert not any("GIVING UP" in line for line in said)
    finally:
        supervisor.stop_all()
