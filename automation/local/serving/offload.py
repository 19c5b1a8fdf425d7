"""Large calls answered by a worker process, so they cannot stall the small ones.

A deployment serves from one event loop, and a 5 MB batch costs it a second of parsing, converting,
predicting and serialising (json and the row conversion hold the GIL, so a thread would not help):
every small call behind it would wait that long. So before serving starts, with the model loaded,
the server forks one worker (a ``ProcessPoolExecutor`` on the fork context: the worker shares the
loaded model's pages, no second load) and sends it each body over ``threshold`` bytes; the worker
runs the very same code path (``ModelEndpoint.answer``), so answers are identical. The event loop
only waits on a pipe meanwhile, and the operating system shares the CPU between the two, the worker
at a lower priority (nice 10), so on a busy machine the small calls and the API get the CPU first.

If the worker dies, ``answer`` returns None and the call (and every later one) is answered in
process, as before this existed; the reason is logged.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

log = logging.getLogger(__name__)

WORKER_NICENESS = 10
ORPHAN_CHECK_SECONDS = 1.0  # how often the worker checks that its server still lives
_ENDPOINT: Any = None  # the forked worker's copy of the endpoint (set before the fork)


def _answer(raw: bytes, query_key: str | None) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    return _ENDPOINT.answer(raw, query_key)


def _start_worker(fds: tuple[int, ...]) -> None:
    """In the worker: a lower CPU priority (when the CPU is contended, small calls and the API come
    first), close what it inherited but must not hold (the listening socket), and end with the server."""
    try:
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    server = os.getppid()
    threading.Thread(target=_exit_when_orphaned, args=(server,), name="orphan-watch", daemon=True).start()


def _exit_when_orphaned(server: int, every: float = ORPHAN_CHECK_SECONDS) -> None:
    """A server killed outright (SIGKILL, OOM) never shuts its pool down, and the worker, holding
    a copy of the pool's pipes, would wait on them forever: it exits once its parent is gone."""
    while os.getppid() == server:
        time.sleep(every)
    os._exit(0)


def _pid() -> int:
    return os.getpid()


class Offload:
    """One forked worker answering bodies larger than ``threshold`` bytes."""

    def __init__(self, endpoint: Any, threshold: int, close_in_worker: tuple[int, ...] = ()) -> None:
        global _ENDPOINT
        _ENDPOINT = endpoint
        self.threshold = threshold
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(close_in_worker,),
        )
        self.worker_pid = self._pool.submit(_pid).result(timeout=60)  # fork now, before any thread

    async def answer(self, raw: bytes, query_key: str | None) -> tuple[int, bytes, list[Any]] | None:
        if self._pool is None:
            return None
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, _answer, raw, query_key)
        except BrokenProcessPool as exc:
            log.warning("the large-call worker died (%s); answering large calls in process", exc)
            self._pool = None
            return None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
