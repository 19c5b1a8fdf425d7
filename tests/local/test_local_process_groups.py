"""What a workload leaves behind ends with it: a process group is signalled even after its leader
exited (a model server's forked worker, a job's background process live on in it), a stray group is
found by a member's command line when its leader is gone, and a model server's large-call worker
exits when the server is killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from local_support import wait_for

from automation.local.workloads.procs import alive, group_members, kill_group, kill_stray, spawn

# The leader starts a child that outlives it (same process group), prints the child's pid, exits.
LEAVES_A_CHILD = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", sys.argv[1]])
print(child.pid, flush=True)
"""


def _leader_leaving_a_child(tmp_path: Path, marker: str) -> tuple[subprocess.Popen[bytes], int]:
    log = tmp_path / "leader.log"
    proc = spawn(
        [sys.executable, "-c", LEAVES_A_CHILD, marker], cwd=tmp_path, env=dict(os.environ), log_path=log
    )
    assert proc.wait(timeout=60) == 0
    child = int(log.read_text().split()[0])
    assert alive(child) and group_members(proc.pid) == [child]  # the leader is gone, its child is not
    return proc, child


def test_kill_group_ends_what_an_exited_leader_left_in_its_group(tmp_path: Path) -> None:
    proc, child = _leader_leaving_a_child(tmp_path, "marker-kill-group")
    kill_group(proc, grace=2.0)
    assert wait_for(lambda: alive(child), lambda up: not up, deadline=10) is False
    assert group_members(proc.pid) == []
    kill_group(proc, grace=2.0)  # an empty group: nothing to do, no error


def test_kill_stray_finds_a_group_by_a_members_command_line_when_its_leader_is_gone(tmp_path: Path) -> None:
    proc, child = _leader_leaving_a_child(tmp_path, "marker-stray-0123")
    try:
        assert kill_stray(proc.pid, "marker-not-this-one") is False  # not ours: left alone
        assert alive(child)
        assert kill_stray(proc.pid, "marker-stray-0123", grace=2.0) is True
        assert wait_for(lambda: alive(child), lambda up: not up, deadline=10) is False
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)


# A model server in miniature: the large-call worker forked, its pid printed, then it waits.
SERVER_WITH_A_WORKER = """
import time
from automation.local.serving.offload import Offload
offload = Offload(endpoint=None, threshold=1)
print(offload.worker_pid, flush=True)
time.sleep(600)
"""


def test_the_large_call_worker_exits_when_its_server_is_killed_outright(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    server = spawn([sys.executable, "-c", SERVER_WITH_A_WORKER], cwd=tmp_path, env=env, log_path=log)
    try:
        text = wait_for(lambda: log.read_text(), lambda t: t.strip() != "" or server.poll() is not None)
        worker = int(text.split()[0])
        assert alive(worker) and worker != server.pid
        os.kill(server.pid, signal.SIGKILL)  # no shutdown of its pool: the worker is on its own
        server.wait(timeout=10)
        time.sleep(0.1)
        assert wait_for(lambda: alive(worker), lambda up: not up, deadline=15) is False
    finally:
        kill_group(server, grace=1.0)


def test_a_launch_replaced_while_starting_ends_its_own_server_and_leaves_the_current_one(
    tmp_path: Path,
) -> None:
    # A restart that lands between a launch's spawn and its generation check: the replacing launch
    # registered its own server; the replaced one must end the server only it knows of.
    import logging
    from types import SimpleNamespace

    from automation.local.workloads.deployments import DeploymentSupervisor

    supervisor = DeploymentSupervisor(SimpleNamespace(log=logging.getLogger("test.groups")))  # type: ignore[arg-type]
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    replaced = spawn(sleeper, cwd=tmp_path, env=dict(os.environ), log_path=tmp_path / "a.log")
    current = spawn(sleeper, cwd=tmp_path, env=dict(os.environ), log_path=tmp_path / "b.log")
    try:
        supervisor._procs["d"] = current
        supervisor._end("d", replaced)
        assert replaced.wait(timeout=10) is not None
        assert supervisor._procs["d"] is current and current.poll() is None
        supervisor._end("d", current)  # the current launch ending its own server unregisters it
        assert "d" not in supervisor._procs and current.wait(timeout=10) is not None
    finally:
        kill_group(replaced, grace=1.0)
        kill_group(current, grace=1.0)
