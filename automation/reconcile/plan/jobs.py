"""Planner of the DEV project's jobs (manual, after a parent, or on a schedule)."""

from __future__ import annotations

from typing import Any

from automation.reconcile import desired
from automation.reconcile.model import Action, Kind, Res, resource_key
from automation.reconcile.observe import Observed
from automation.reconcile.plan.common import JOB_FIELDS_CML_MAY_IGNORE, diff, job_fields, masked_changes


def plan_job(spec: Any, name: str, obs: Observed, depends_on: list[str]) -> Action:
    """Create, update or leave the job ``name``."""
    spec_job, job = spec.jobs[name], obs.jobs.get(name)
    want = desired.job(spec_job, *obs.runtime_of(resource_key(Res.JOB, name)))
    if spec_job.after:
        depends_on = [*depends_on, resource_key(Res.JOB, spec_job.after)]
    if job is None:
        return Action(Res.JOB, name, Kind.CREATE, name, "does not exist", desired=want, depends_on=depends_on)
    names = {j.id: n for n, j in obs.jobs.items() if j is not None}
    changes = diff(job_fields(job, want, names), want)
    return Action(
        Res.JOB,
        name,
        Kind.UPDATE if changes else Kind.NOOP,
        name,
        job_reason(changes),
        masked_changes(spec, ("jobs", name), changes),
        job.id,
        desired=want,
        depends_on=depends_on,
    )


def job_reason(changes: dict[str, list[Any]]) -> str:
    if not changes:
        return ""
    ignorable = [k for k in JOB_FIELDS_CML_MAY_IGNORE if k in changes]
    if not ignorable:
        return "differs"
    return (
        f"differs; if CML leaves {', '.join(ignorable)} unchanged after the PATCH, the job is replaced "
        "(a new job, dependent jobs moved to it, the old one deleted)"
    )


def plan_jobs(spec: Any, obs: Observed, files: list[str]) -> list[Action]:
    """Every job, parents before the jobs that follow them."""
    order: list[str] = []
    for name in spec.jobs:
        for step in [*spec.ancestors(name), name]:
            if step not in order:
                order.append(step)
    return [plan_job(spec, name, obs, ["project.dev", *files]) for name in order]
