"""`:stop` of a run whose runner is stuck before its process started (no process to kill)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import SimpleNamespace

from automation.local.state.paths import StatePaths
from automation.local.state.store import Store
from automation.local.workloads.engines import EngineContexts
from automation.local.workloads.jobruns import KIND, JobRunner


def test_stop_finishes_a_run_whose_runner_never_comes_back(tmp_path: Path) -> None:
    paths = StatePaths.of(tmp_path / ".cmlops")
    paths.ensure()
    ws = SimpleNamespace(
        paths=paths, store=Store(paths.db), engines=EngineContexts(), log=logging.getLogger("test")
    )
    runner = JobRunner(ws)  # type: ignore[arg-type]
    ws.store.insert(KIND, "r1", {"id": "r1", "status": "ENGINE_SCHEDULING", "engine_id": "e1"}, parent="j1")
    runner._done["r1"] = threading.Event()  # a runner thread that is stuck and will never finish
    assert runner.stop("r1", wait=0.2) is True
    doc = ws.store.get(KIND, "r1")
    assert doc["status"] == "ENGINE_STOPPED" and doc["finished_at"]
    assert not runner.is_active("r1")
    assert runner.stop("r1", wait=0.2) is False  # nothing left to stop
