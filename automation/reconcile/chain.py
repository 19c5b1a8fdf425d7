"""Runs of a job chain: start its root, then follow the runs CML starts for each dependent job.

CML (and the local workspace) start a job's dependent jobs when its run succeeds. apply starts the
root of the chain that ends in the model's job, waits for that run, then for each next job waits
for the run created at or after its parent's run began, until the whole chain's deadline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from automation.api import CMLClient
from automation.api.base import WaitEvent, wait_for
from automation.api.jobs import RUN_ACTIVE, RUN_FAILURE, RUN_SUCCESS
from automation.api.types import JobRun
from automation.errors import CmlopsError


@dataclass
class _NotYet:
    status: str = "<not started>"


_STAMP = re.compile(r"(?P<base>[^.Z+]+(?:T[^.Z+-]+)?)(?:\.(?P<frac>\d+))?(?P<zone>Z|[+-]\d\d:?\d\d)?$")


def _when(stamp: str) -> datetime | None:
    """An RFC 3339 time (any number of fraction digits, ``Z`` or an offset), or None."""
    found = _STAMP.match(stamp or "")
    if not found:
        return None
    frac = (found["frac"] or "0")[:6].ljust(6, "0")
    zone = found["zone"] or "+00:00"
    try:
        return datetime.fromisoformat(f"{found['base']}.{frac}{'+00:00' if zone == 'Z' else zone}")
    except ValueError:
        return None


def started_after(runs: list[JobRun], parent: JobRun) -> JobRun | None:
    """The earliest run created at or after ``parent`` was (the one its success started); with a
    parent of unknown age, the earliest run."""
    began = _when(parent.created_at)
    timed = [(w, r) for r in runs if (w := _when(r.created_at)) is not None and (began is None or w >= began)]
    if began is None:
        timed += [(None, r) for r in runs if _when(r.created_at) is None]
    return min(timed, key=lambda t: (t[0] is None, t[0] or began), default=(None, None))[1]


def follow_chain(
    client: CMLClient,
    dev_id: str,
    root_run: JobRun,
    chain: list[tuple[str, str]],
    *,
    timeout: float,
    on_progress: Callable[[WaitEvent], None] | None = None,
) -> dict[str, JobRun]:
    """Wait for ``root_run`` (of ``chain[0]``), then for the run of each next job (name, id) of
    ``chain``; returns each job's successful run by name. A failure anywhere raises (JobRunFailed)."""
    clock = client.jobs.clock
    deadline = clock.now() + timeout
    (root_name, root_id), rest = chain[0], chain[1:]
    run = client.jobs.wait_run(dev_id, root_id, root_run.id, timeout=timeout, on_progress=on_progress)
    runs = {root_name: run}
    for name, job_id in rest:
        parent = run
        found = wait_for(
            lambda j=job_id, p=parent: (
                started_after(list(client.jobs.list_runs(dev_id, j, limit=5)), p) or _NotYet()
            ),
            what=f"the run of job {name!r} its parent's success starts",
            status_of=lambda r: r.status,
            success=RUN_ACTIVE | RUN_SUCCESS | RUN_FAILURE,
            failure=set(),
            timeout=max(1.0, deadline - clock.now()),
            clock=clock,
            on_progress=on_progress,
        )
        if isinstance(found, _NotYet):  # pragma: no cover - wait_for raises on its timeout
            raise CmlopsError(f"job {name!r} did not start after its parent's run {parent.id}")
        run = runs[name] = client.jobs.wait_run(
            dev_id, job_id, found.id, timeout=max(1.0, deadline - clock.now()), on_progress=on_progress
        )
    return runs
