"""One server per state folder: the server holds an exclusive lock on ``server.lock`` while it runs,
with its address written inside, so a lost ``server.json`` can neither start a second server on the
same folder nor hide the running one. Stdlib only (the CLI reads it)."""

from __future__ import annotations

import fcntl
import json
import os
from typing import IO, Any

from automation.local.state.paths import StatePaths


def acquire(paths: StatePaths) -> IO[str] | None:
    """Take the server lock (kept until the returned file is closed or the process ends); None when
    another process holds it."""
    fh = open(paths.server_lock, "a+", encoding="utf-8")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        return None
    return fh


def record(fh: IO[str], info: dict[str, Any]) -> None:
    """Write the holder's address into the lock file (read by ``holder`` when server.json is gone)."""
    fh.seek(0)
    fh.truncate()
    fh.write(json.dumps(info) + "\n")
    fh.flush()
    os.fsync(fh.fileno())


def holder(paths: StatePaths) -> dict[str, Any] | None:
    """The address the lock's holder recorded, when a process holds the lock; else None."""
    try:
        with open(paths.server_lock, encoding="utf-8") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:  # held: read what the holder wrote
                text = fh.read()
            else:
                fcntl.flock(fh, fcntl.LOCK_UN)
                return None
    except OSError:
        return None
    try:
        info = json.loads(text or "null")
    except ValueError:
        return None
    return info if isinstance(info, dict) else None
