"""Planner of the DEV project's jobs."""

from __future__ import annotations

from typing import Any

from automation.reconcile import desired
from automation.reconcile.model import Action, Kind, Res
from automation.reconcile.observe import Observed
from automation.reconcile.plan.common import JOB_FIELDS_CML_MAY_IGNORE, diff, job_fields, masked_changes


def plan_job(
    spec: Any,
    name: str,
    spec_job: Any,
    section: tuple[str, ...],
    job: Any,
    obs: Observed,
    depends_on: list[str],
) -> Action:
    """Create, update or leave the job ``name`` (``job`` is what exists, or None)."""
    want = desired.job(spec_job, obs.runtime_identifier, obs.runtime_addons)
    if job is None:
        return Action(Res.JOB, name, Kind.CREATE, name, "does not exist", desired=want, depends_on=depends_on)
    changes = diff(job_fields(job, want), want)
    return Action(
        Res.JOB,
        name,
        Kind.UPDATE if changes else Kind.NOOP,
        name,
        job_reason(changes),
        masked_changes(spec, section, changes),
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
    """The install step's job (if any), then the training job."""
    actions: list[Action] = []
    base = ["project.dev", *files]
    step = spec.training.install
    if step is not None:
        actions.append(plan_job(spec, step.name, step, ("training", "install"), obs.install_job, obs, base))
    j = spec.training.job
    actions.append(plan_job(spec, j.name, j, ("training", "job"), obs.job, obs, base))
    return actions
