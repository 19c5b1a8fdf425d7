"""Process helpers: every workload runs in its own session so one signal stops all of it.

Process facts (command line, alive or a zombie) come from psutil and locks from filelock, never
from ``/proc`` or ``fcntl`` directly; both are imported when first needed (``cmlops`` starts fast).
Process groups (``start_new_session``, ``killpg``) are POSIX: the local workspace runs on Linux and
macOS, not on Windows (README, "Platforms").
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


def spawn(cmd: list[str], *, cwd: Path, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start a workload in its own session, stdout and stderr appended to its log file."""
    with log_path.open("ab") as fh:
        return subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill_group(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after ``grace`` seconds. The group is
    signalled even when its leader has exited: what the leader started (a model server's forked
    worker, a job's background process) lives on in the group and is ended with it, as CML ends
    everything in an engine."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        proc.poll()  # reap the leader if it had exited
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        proc.poll()
        if not group_members(proc.pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


def group_members(pgid: int) -> list[int]:
    """The live processes of process group ``pgid`` (zombies count as gone)."""
    import psutil

    found = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process.pid)
        except (psutil.Error, OSError):
            continue
    return found


def cmdline(pid: int) -> str:
    """The process's command line, its arguments joined by spaces ("" when gone or not readable)."""
    import psutil

    try:
        return " ".join(psutil.Process(pid).cmdline())
    except (psutil.Error, OSError):
        return ""


def alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (exited, not yet reaped) counts as gone."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # AccessDenied: it exists, owned by someone else
        return True


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes on ``path`` (created if missing), held for the block."""
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path)):
        yield


def kill_stray(pid: int | None, needle: str, grace: float = 5.0) -> bool:
    """Kill the group of a process we did not spawn in this life (no Popen), if it is still ours.

    ``needle`` must appear in the command line of the process or of a process left in its group (its
    leader may be gone while a process it forked lives on), so a recycled pid is never hit.
    """
    if not pid or not needle:
        return False
    ours = [member for member in {pid, *group_members(pid)} if needle in cmdline(member)]
    if not ours:
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not any(alive(member) and needle in cmdline(member) for member in ours):
                return True
            time.sleep(0.05)
    return True
