"""virtdeck.daemons.Supervisor with real child processes: restarts with backoff, stops exactly what it started."""
import os
import re
import subprocess
import sys

import pytest

from core.testing import eventually
from virtdeck import daemons

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
CRASHER = [sys.executable, "-c", "raise SystemExit(3)"]
# A child that starts a grandchild in its own process group (as a Celery worker starts its pool).
PARENT = [sys.executable, "-c",
          "import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']);"
          " print(p.pid, flush=True); time.sleep(600)"]


@pytest.fixture
def supervisor(tmp_path):
    messages = []
    supervisor = daemons.Supervisor(tmp_path, say=messages.append, first_delay=0.05, max_delay=0.2)
    supervisor.messages = messages
    yield supervisor
    supervisor.stop(timeout=5)


def pids_in_group(pgid):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(entry))
    return pids


def poll_until(supervisor, check, timeout=10, message="condition"):
    return eventually(lambda: supervisor.poll() or check(), timeout=timeout, message=message)


@pytest.mark.parametrize("crashes, delay", [(1, 1), (2, 2), (3, 4), (5, 16), (6, 30), (50, 30)])
def test_it_doubles_the_restart_delay_up_to_a_cap(crashes, delay):
    assert daemons.restart_delay(crashes, first=1, cap=30) == delay


def test_it_restarts_a_crashing_child_with_growing_delays_while_the_others_run(supervisor, tmp_path):
    supervisor.start("steady", SLEEPER)
    supervisor.start("crasher", CRASHER)
    steady_pid = supervisor.children["steady"].proc.pid
    exits = lambda: [m for m in supervisor.messages if "exited with 3" in m]  # noqa: E731
    poll_until(supervisor, lambda: len(exits()) >= 5, message="five exits of the crasher")
    delays = [float(re.search(r"restarting in (\S+) s", m).group(1)) for m in exits()[:5]]
    assert delays == [0.05, 0.1, 0.2, 0.2, 0.2]  # backoff, capped: never a tight loop
    assert len([m for m in supervisor.messages if m.startswith("restarted crasher")]) >= 4
    assert supervisor.children["steady"].proc.pid == steady_pid and daemons.pid_alive(steady_pid)
    assert daemons.read_pid(tmp_path / "steady.pid") == steady_pid


def test_it_starts_over_at_the_first_delay_after_a_child_ran_long_enough(tmp_path):
    messages = []
    supervisor = daemons.Supervisor(tmp_path, say=messages.append, first_delay=0.05, max_delay=0.2, stable_after=0)
    try:
        supervisor.start("crasher", CRASHER)
        poll_until(supervisor, lambda: sum("exited with 3" in m for m in messages) >= 3, message="three exits")
    finally:
        supervisor.stop(timeout=5)
    assert all("restarting in 0.05 s" in m for m in messages if "exited" in m)


def test_it_restarts_a_killed_child_and_kills_what_it_left_behind(supervisor, tmp_path):
    supervisor.start("parent", PARENT)
    first = supervisor.children["parent"].proc
    poll_until(supervisor, lambda: len(pids_in_group(first.pid)) == 2, message="grandchild started")
    os.kill(first.pid, 9)
    poll_until(supervisor, lambda: supervisor.children["parent"].proc is not first, message="restarted")
    eventually(lambda: pids_in_group(first.pid) == [], message="the orphaned grandchild killed with it")
    second = supervisor.children["parent"].proc
    assert daemons.read_pid(tmp_path / "parent.pid") == second.pid and daemons.pid_alive(second.pid)
    assert any(f"parent (pid {first.pid}) exited with -9" in m for m in supervisor.messages)


def test_it_stops_every_child_and_its_group_by_pid_and_nothing_else(supervisor, tmp_path):
    outsider = subprocess.Popen(SLEEPER, start_new_session=True)  # the same command, not started by it: survives
    try:
        supervisor.start("parent", PARENT)
        supervisor.start("steady", SLEEPER)
        groups = [c.proc.pid for c in supervisor.children.values()]
        poll_until(supervisor, lambda: len(pids_in_group(groups[0])) == 2, message="grandchild started")
        supervisor.stop(timeout=5)
        # SIGKILLed leftovers take a moment to exit.
        eventually(lambda: all(pids_in_group(pgid) == [] for pgid in groups), message="every group gone")
        assert not list(tmp_path.glob("*.pid")) and supervisor.children == {}
        assert outsider.poll() is None
    finally:
        outsider.kill()
        outsider.wait()


def test_it_kills_a_child_that_ignores_term(supervisor):
    supervisor.start("stubborn", [sys.executable, "-c",
                                  "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
                                  " print('ready', flush=True); time.sleep(600)"])
    proc = supervisor.children["stubborn"].proc
    eventually(lambda: _ignores_term(proc.pid), message="TERM ignored")
    supervisor.stop(timeout=0.5)
    assert proc.returncode == -9
    assert any("did not stop" in m for m in supervisor.messages)


def _ignores_term(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("SigIgn:"):
            return int(line.split()[1], 16) & (1 << (15 - 1))
    return False
