"""Which run of a dependent job its parent's run started: by creation time, whatever the precision."""

from __future__ import annotations

from automation.api.types import JobRun
from automation.reconcile.chain import started_after


def run(run_id: str, created_at: str) -> JobRun:
    return JobRun(id=run_id, status="ENGINE_SUCCEEDED", created_at=created_at)


def test_the_earliest_run_created_after_the_parent_began_is_the_childs() -> None:
    parent = run("p", "2026-12-01T10:00:00.123456789Z")  # nanoseconds, as some servers write them
    runs = [
        run("before", "2026-12-01T09:59:59.999Z"),
        run("later", "2026-12-01T10:05:00Z"),
        run("first", "2026-12-01T11:00:01.5+01:00"),  # 10:00:01.5 UTC
    ]
    assert started_after(runs, parent).id == "first"
    assert started_after([runs[0]], parent) is None
    assert started_after([run("x", "not a time")], parent) is None  # never a run of unknown age
    assert started_after(runs, run("p", "")).id == "before"  # a parent of unknown age: any run counts
