"""Job rules: what a job may hold, how its type follows from its fields, and what its runs need.

``name``, ``script`` and ``runtime_identifier`` are required on create; ``script`` is a file of the
project; numbers are non-negative; ``kill_on_timeout`` defaults to true. A job has either a
``schedule`` (a five-field cron expression in an IANA ``timezone``) or a ``parent_id`` (another job
of the same project, never itself), not both; ``type`` follows: ``dependent``, ``cron`` or
``manual``. A changed schedule, timezone or pause counts from now (``schedule_set_at``), so no
backlog fires. Runs start only in a ready project (``workloads/jobruns.py`` runs them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from automation.local.core.ids import new_public_id
from automation.local.core.problems import bad_request, failed_precondition
from automation.local.core.shapes import require_text
from automation.local.core.timefmt import now
from automation.local.domain.fields import (
    copy_set,
    project_file,
    refuse_addons,
    require_fields,
    require_ready,
    require_runtime,
)
from automation.local.state import records
from automation.local.state.records import Job, JobRun, Project
from automation.local.workloads.schedules import schedule_problem

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

REQUIRED = ("name", "script", "runtime_identifier")
NUMBERS = ("cpu", "memory", "nvidia_gpu", "timeout")
PLAIN = ("arguments", "kernel", "schedule", "timezone")
FLAGS = ("kill_on_timeout", "paused", "runtime_addon_identifiers", "attachments", "run_as")
SCHEDULE_FIELDS = frozenset({"schedule", "timezone", "paused"})


def job_type(job: Job) -> str:
    return "dependent" if job.parent_id else "cron" if job.schedule else "manual"


def _parent(ws: Workspace, project: Project, job_id: str, given: Mapping[str, Any]) -> str | None:
    """The parent job the request sets (``parent_job_id`` is CreateJobRequest's other name for it)."""
    parent = given.get("parent_id") if "parent_id" in given else None
    if not parent and given.get("parent_job_id"):
        parent = given["parent_job_id"]
    if parent:
        other = records.load(ws.store, Job, parent)
        if other is None or other.project_id != project.id:
            raise bad_request(f"parent_id {parent!r} is not a job of project {project.id!r}")
        if parent == job_id:
            raise bad_request("a job cannot depend on itself")
    return parent


def _apply(ws: Workspace, project: Project, job: Job, given: Mapping[str, Any]) -> Job:
    """Validate the fields the client set and return the job with them."""
    changes: dict[str, Any] = {}
    if "name" in given:
        changes["name"] = require_text(given["name"], "name")
    if "script" in given:
        changes["script"] = project_file(ws.paths.project_dir(project.id), given["script"], "script")
    if "runtime_identifier" in given:
        changes["runtime_identifier"] = require_runtime(given["runtime_identifier"])
    changes.update(copy_set(given, NUMBERS, numbers=True))
    changes.update(copy_set(given, PLAIN))
    if "runtime_addon_identifiers" in given:
        refuse_addons(given["runtime_addon_identifiers"])
    changes.update(copy_set(given, FLAGS))
    if "environment" in given:
        changes["environment"] = given["environment"] or {}
    parent = _parent(ws, project, job.id, given)
    if parent is not None:
        changes["parent_id"] = parent
    job = job.with_(**changes)
    if job.parent_id and job.schedule:
        raise bad_request("a job has either a schedule or a parent_id, not both")
    if job.schedule:
        problem = schedule_problem(job.schedule, job.timezone)
        if problem:
            raise bad_request(problem)
    if SCHEDULE_FIELDS & set(given):
        job = job.with_(schedule_set_at=now())  # a changed schedule counts from now: no backlog fires
    return job.with_(type=job_type(job))


def create(ws: Workspace, project: Project, given: Mapping[str, Any]) -> Job:
    require_fields(given, REQUIRED)
    ts = now()
    job = _apply(
        ws, project, Job(id=new_public_id(), project_id=project.id, created_at=ts, updated_at=ts), given
    )
    return records.insert(ws.store, job)


def update(ws: Workspace, project: Project, job: Job, given: Mapping[str, Any]) -> Job:
    job = _apply(ws, project, job, given).with_(updated_at=now())
    records.save(ws.store, job)
    return job


def start_run(
    ws: Workspace, project: Project, job: Job, environment: dict[str, str] | None, arguments: str | None
) -> JobRun:
    require_ready(project)
    return ws.runner.create_run(project, job, environment, arguments)


def stop_run(ws: Workspace, run: JobRun) -> None:
    if not ws.runner.stop(run.id):
        raise failed_precondition(f"job run {run.id!r} is not active (status {run.status})")
