"""One server per state folder: the server holds an exclusive lock on ``server.lock`` for its whole
life and writes its address to ``server.owner``, so a lost ``server.json`` can neither start a second
server on the same folder nor hide the running one.

The lock is filelock's (portable; an OS lock released when the process ends, however it ends). The
address lives in a file of its own because taking a filelock lock may truncate the lock file: a
second process that only checks must not erase what the holder wrote.
"""

from __future__ import annotations

import json
import os
from typing import Any

from filelock import BaseFileLock, FileLock, Timeout

from automation.local.state.paths import StatePaths


def acquire(paths: StatePaths) -> BaseFileLock | None:
    """Take the server lock (kept until released or the process ends); None when another process holds it."""
    lock = FileLock(str(paths.server_lock), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return None
    return lock


def record(lock: BaseFileLock, paths: StatePaths, info: dict[str, Any]) -> None:
    """Write the holder's address (read by ``holder`` when server.json is gone); only the holder may."""
    if not lock.is_locked:
        raise RuntimeError("record() needs the server lock held")
    tmp = paths.server_owner.with_name(paths.server_owner.name + ".tmp")
    tmp.write_text(json.dumps(info) + "\n", encoding="utf-8")
    os.replace(tmp, paths.server_owner)


def holder(paths: StatePaths) -> dict[str, Any] | None:
    """The address the lock's holder recorded, when a process holds the lock; else None."""
    probe = FileLock(str(paths.server_lock), timeout=0)
    try:
        probe.acquire()
    except Timeout:
        pass  # held: read what the holder wrote
    except OSError:
        return None
    else:
        probe.release()
        return None
    try:
        info = json.loads(paths.server_owner.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None
