"""Jobs and job runs: /api/v2/projects/{project_id}/jobs[/{job_id}[/runs[/{run_id}[:stop]]]].

Job names need not be unique (CML allows duplicates; clients look jobs up by name first). The
routes parse, call ``domain/jobs.py`` (required fields, runtime, cron schedule and time zone,
parent jobs, type) and render (``render.py``); runs are ``workloads/jobruns.py``'s.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from automation.local.api.bodies import EnvMap, EnvString
from automation.local.api.common import given, job_or_404, params, project_or_404, run_or_404, workspace
from automation.local.api.render import render_job, render_run
from automation.local.core.listing import ListSpec
from automation.local.domain import cascades, jobs
from automation.local.state import records
from automation.local.state.records import Job, JobRun
from automation.local.workloads.jobruns import STATUS_WORD

router = APIRouter(prefix="/api/v2")
CREATOR_KEYS = ("creator.email", "creator.name", "creator.username")
JOB_FILTER_KEYS = (*CREATOR_KEYS, "description", "kernel", "name", "paused", "script", "type")
JOB_SORT_KEYS = (*JOB_FILTER_KEYS, "created_at", "updated_at")
JOBS = ListSpec("jobs", JOB_FILTER_KEYS, JOB_SORT_KEYS, {"description": lambda job: ""})


class JobFields(BaseModel):
    """Fields shared by CreateJobRequest and the partial Job of UpdateJob."""

    model_config = ConfigDict(extra="ignore")
    name: str | None = None
    script: str | None = None
    cpu: float | None = None
    memory: float | None = None
    nvidia_gpu: int | None = None
    parent_id: str | None = None
    environment: EnvMap = None
    arguments: str | None = None
    timeout: int | None = None
    schedule: str | None = None
    timezone: str | None = None
    paused: bool | None = None
    kernel: str | None = None
    runtime_identifier: str | None = None
    runtime_addon_identifiers: list[str] | None = None
    kill_on_timeout: bool | None = None
    attachments: list[str] | None = None
    run_as: int | None = None


class CreateJobRequest(JobFields):
    parent_job_id: str | None = None


class UpdateJobRequest(JobFields):
    """The PATCH body is the Job message: ``environment`` is a JSON string there."""

    environment: EnvString = None


class CreateJobRunRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    environment: EnvMap = None
    arguments: str | None = None


@router.get("/projects/{project_id}/jobs")
def list_jobs(project_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    return JOBS.page(
        params(request), records.load_all(ws.store, Job, project_id), lambda j: render_job(j, project)
    )


@router.post("/projects/{project_id}/jobs")
def create_job(project_id: str, body: CreateJobRequest, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    return render_job(jobs.create(ws, project, given(body)), project)


@router.get("/projects/{project_id}/jobs/{job_id}")
def get_job(project_id: str, job_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    return render_job(job_or_404(ws, project_id, job_id), project)


@router.patch("/projects/{project_id}/jobs/{job_id}")
def update_job(project_id: str, job_id: str, body: UpdateJobRequest, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    job = job_or_404(ws, project_id, job_id)
    return render_job(jobs.update(ws, project, job, given(body)), project)


@router.delete("/projects/{project_id}/jobs/{job_id}")
def delete_job(project_id: str, job_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    cascades.delete_job(ws, job_or_404(ws, project_id, job_id).id)
    return {}


# --- runs ------------------------------------------------------------------------------------


def _runs_of(job: Job) -> ListSpec:
    """Runs filter on their own status, id, times and kernel, and on their job's fields."""

    def of_job(key: str) -> Any:
        return lambda run: JOBS.field(job, key)

    def updated(run: JobRun) -> Any:
        return run.finished_at or run.running_at or run.created_at

    computed: dict[str, Any] = {key: of_job(key) for key in JOB_FILTER_KEYS if key not in ("kernel",)}
    computed.update(
        status=lambda run: STATUS_WORD.get(run.status, run.status.lower()),
        updated_at=updated,
    )
    return ListSpec("job_runs", (*JOB_FILTER_KEYS, "status", "id"), JOB_SORT_KEYS, computed)


@router.get("/projects/{project_id}/jobs/{job_id}/runs")
def list_runs(project_id: str, job_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    job = job_or_404(ws, project_id, job_id)
    return _runs_of(job).page(params(request), records.load_all(ws.store, JobRun, job_id), render_run)


@router.post("/projects/{project_id}/jobs/{job_id}/runs")
def create_run(
    project_id: str, job_id: str, request: Request, body: CreateJobRunRequest | None = None
) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    job = job_or_404(ws, project_id, job_id)
    body = body or CreateJobRunRequest()
    return render_run(jobs.start_run(ws, project, job, body.environment, body.arguments))


@router.get("/projects/{project_id}/jobs/{job_id}/runs/{run_id}")
def get_run(project_id: str, job_id: str, run_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    job = job_or_404(ws, project_id, job_id)
    return render_run(run_or_404(ws, job, run_id))


@router.post("/projects/{project_id}/jobs/{job_id}/runs/{run_id}:stop")
def stop_run(project_id: str, job_id: str, run_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    job = job_or_404(ws, project_id, job_id)
    jobs.stop_run(ws, run_or_404(ws, job, run_id))
    return render_run(run_or_404(ws, job, run_id))
