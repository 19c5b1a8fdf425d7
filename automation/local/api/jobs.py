"""Jobs and job runs: /api/v2/projects/{project_id}/jobs[/{job_id}[/runs[/{run_id}[:stop]]]].

Job names need not be unique (CML allows duplicates; clients look jobs up by name first).
``runtime_identifier`` is required and must be in the catalogue. ``kill_on_timeout`` defaults to
true when the request leaves it out. ``schedule`` must be a five-field cron expression (and
``timezone`` an IANA zone name); scheduled jobs fire (``workloads/schedules.py``) and dependent jobs
(``parent_id``) start when a run of their parent succeeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from automation.local.api.common import job_or_404, non_negative, params, project_or_404, workspace
from automation.local.api.render import render_run
from automation.local.api.runtimeaddons import refuse_addons
from automation.local.core.files import resolve_inside
from automation.local.core.ids import new_public_id
from automation.local.core.listing import apply, envelope, parse_list_query
from automation.local.core.problems import bad_request, failed_precondition, not_found
from automation.local.core.shapes import EnvMap, EnvString, env_json, require_text, short_project, short_user
from automation.local.core.timefmt import now, rfc3339
from automation.local.workloads.jobruns import KIND as RUN_KIND
from automation.local.workloads.jobruns import STATUS_WORD
from automation.local.workloads.runtimes import is_known, why_unknown
from automation.local.workloads.schedules import DEFAULT_TIMEZONE, schedule_problem

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

router = APIRouter(prefix="/api/v2")
KIND = "job"
CREATOR_KEYS = ("creator.email", "creator.name", "creator.username")
JOB_FILTER_KEYS = (*CREATOR_KEYS, "description", "kernel", "name", "paused", "script", "type")
JOB_SORT_KEYS = (*JOB_FILTER_KEYS, "created_at", "updated_at")
RUN_FILTER_KEYS = (*JOB_FILTER_KEYS, "status", "id")
RUN_SORT_KEYS = JOB_SORT_KEYS


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


def render_job(doc: dict[str, Any], project: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["id"],
        "cpu": doc.get("cpu", 1.0),
        "created_at": rfc3339(doc["created_at"]),
        "creator": short_user(),
        "engine_image_id": "0",
        "english_schedule": "",
        "arguments": doc.get("arguments", ""),
        "type": doc.get("type", "manual"),
        "kernel": doc.get("kernel", ""),
        "memory": doc.get("memory", 1.0),
        "name": doc["name"],
        "parent_id": doc.get("parent_id", ""),
        "paused": doc.get("paused", False),
        "schedule": doc.get("schedule", ""),
        "script": doc["script"],
        "timeout": str(doc.get("timeout", 0)),
        "timezone": doc.get("timezone", DEFAULT_TIMEZONE),
        "updated_at": rfc3339(doc["updated_at"]),
        "environment": env_json(doc.get("environment")),
        "nvidia_gpu": doc.get("nvidia_gpu", 0),
        "runtime_identifier": doc.get("runtime_identifier", ""),
        "runtime_addon_identifiers": doc.get("runtime_addon_identifiers", []),
        "kill_on_timeout": doc.get("kill_on_timeout", True),
        "project": short_project(project),
        "owner": short_user(),
        "run_as": doc.get("run_as", 0),
        "accelerator_label_id": "0",
        "retry_enabled": False,
        "max_retry": 0,
        "retry_delay": 0,
        "retry_for_script_failure": False,
        "retry_for_system_failure": False,
        "retry_for_timedout_runs": False,
        "retry_for_skipped_runs": False,
        "recipients": [],
        "attachments": doc.get("attachments", []),
        "success_recipients": "",
        "failure_recipients": "",
        "timeout_recipients": "",
        "stopped_recipients": "",
        "resource_group_id": 0,
        "resource_profile_id": 0,
    }


def _apply_fields(ws: Workspace, project: dict[str, Any], doc: dict[str, Any], body: JobFields) -> None:
    """Validate the fields the client set and copy them into ``doc``."""
    fields = body.model_fields_set
    root = ws.paths.project_dir(project["id"])
    if "name" in fields:
        doc["name"] = require_text(body.name, "name")
    if "script" in fields:
        script = require_text(body.script, "script")
        resolve_inside(root, script, field="script", allow_root=False)
        doc["script"] = script
    if "runtime_identifier" in fields:
        if not is_known(body.runtime_identifier):
            raise bad_request(why_unknown(body.runtime_identifier or ""))
        doc["runtime_identifier"] = body.runtime_identifier
    for key in ("cpu", "memory", "nvidia_gpu", "timeout"):
        value = getattr(body, key)
        if key in fields and value is not None:
            non_negative(value, key)
            doc[key] = value
    for key in ("arguments", "kernel", "schedule", "timezone"):
        value = getattr(body, key)
        if key in fields and value is not None:
            doc[key] = value
    if "runtime_addon_identifiers" in fields:
        refuse_addons(body.runtime_addon_identifiers)
    for key in ("kill_on_timeout", "paused", "runtime_addon_identifiers", "attachments", "run_as"):
        value = getattr(body, key)
        if key in fields and value is not None:
            doc[key] = value
    if "environment" in fields:
        doc["environment"] = body.environment or {}
    parent = body.parent_id if "parent_id" in fields else None
    if isinstance(body, CreateJobRequest) and not parent and body.parent_job_id:
        parent = body.parent_job_id
    if parent is not None:
        if parent:
            other = ws.store.get(KIND, parent)
            if other is None or other["project_id"] != project["id"]:
                raise bad_request(f"parent_id {parent!r} is not a job of project {project['id']!r}")
            if parent == doc.get("id"):
                raise bad_request("a job cannot depend on itself")
        doc["parent_id"] = parent
    if doc.get("parent_id") and doc.get("schedule"):
        raise bad_request("a job has either a schedule or a parent_id, not both")
    if doc.get("schedule"):
        problem = schedule_problem(doc["schedule"], doc.get("timezone"))
        if problem:
            raise bad_request(problem)
    if fields & {"schedule", "timezone", "paused"}:
        doc["schedule_set_at"] = now()  # a changed schedule counts from now: no backlog fires
    doc["type"] = "dependent" if doc.get("parent_id") else "cron" if doc.get("schedule") else "manual"


@router.get("/projects/{project_id}/jobs")
def list_jobs(project_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    query = parse_list_query(params(request), filter_keys=JOB_FILTER_KEYS, sort_keys=JOB_SORT_KEYS)
    page, token = apply(ws.store.list(KIND, parent=project_id), query, _job_field)
    return envelope("jobs", [render_job(d, project) for d in page], token)


def _job_field(doc: dict[str, Any], key: str) -> Any:
    if key.startswith("creator."):
        return short_user()[key.split(".", 1)[1]]
    if key == "description":
        return ""
    return doc.get(key)


@router.post("/projects/{project_id}/jobs")
def create_job(project_id: str, body: CreateJobRequest, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    for key in ("name", "script", "runtime_identifier"):
        if key not in body.model_fields_set:
            raise bad_request(f"{key} is required")
    ts = now()
    doc: dict[str, Any] = {
        "id": new_public_id(),
        "project_id": project_id,
        "cpu": 1.0,
        "memory": 1.0,
        "nvidia_gpu": 0,
        "arguments": "",
        "kernel": "",
        "schedule": "",
        "timezone": DEFAULT_TIMEZONE,
        "timeout": 0,
        "kill_on_timeout": True,
        "paused": False,
        "parent_id": "",
        "environment": {},
        "runtime_addon_identifiers": [],
        "attachments": [],
        "run_as": 0,
        "created_at": ts,
        "updated_at": ts,
    }
    _apply_fields(ws, project, doc, body)
    ws.store.insert(KIND, doc["id"], doc, parent=project_id)
    return render_job(doc, project)


@router.get("/projects/{project_id}/jobs/{job_id}")
def get_job(project_id: str, job_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    return render_job(job_or_404(ws, project_id, job_id), project)


@router.patch("/projects/{project_id}/jobs/{job_id}")
def update_job(project_id: str, job_id: str, body: UpdateJobRequest, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    doc = job_or_404(ws, project_id, job_id)
    _apply_fields(ws, project, doc, body)
    doc["updated_at"] = now()
    ws.store.update(KIND, job_id, doc)
    return render_job(doc, project)


@router.delete("/projects/{project_id}/jobs/{job_id}")
def delete_job(project_id: str, job_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    job_or_404(ws, project_id, job_id)
    ws.runner.forget_job(job_id)
    ws.store.delete(KIND, job_id)
    return {}


# --- runs ------------------------------------------------------------------------------------


def _run_field(job: dict[str, Any]) -> Any:
    def field(doc: dict[str, Any], key: str) -> Any:
        if key == "status":
            return STATUS_WORD.get(doc["status"], doc["status"].lower())
        if key in ("id", "created_at", "kernel"):
            return doc.get(key)
        if key == "updated_at":
            return doc.get("finished_at") or doc.get("running_at") or doc.get("created_at")
        return _job_field(job, key)

    return field


def _run_or_404(ws: Workspace, job: dict[str, Any], run_id: str) -> dict[str, Any]:
    doc = ws.store.get(RUN_KIND, run_id)
    if doc is None or doc["job_id"] != job["id"]:
        raise not_found("job run", run_id)
    return doc


@router.get("/projects/{project_id}/jobs/{job_id}/runs")
def list_runs(project_id: str, job_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    job = job_or_404(ws, project_id, job_id)
    query = parse_list_query(params(request), filter_keys=RUN_FILTER_KEYS, sort_keys=RUN_SORT_KEYS)
    page, token = apply(ws.store.list(RUN_KIND, parent=job_id), query, _run_field(job))
    return envelope("job_runs", [render_run(d) for d in page], token)


@router.post("/projects/{project_id}/jobs/{job_id}/runs")
def create_run(
    project_id: str, job_id: str, request: Request, body: CreateJobRunRequest | None = None
) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    job = job_or_404(ws, project_id, job_id)
    if project.get("creation_status") != "success":
        raise failed_precondition(
            f"project {project_id!r} is not ready (creation_status {project.get('creation_status')!r})"
        )
    body = body or CreateJobRunRequest()
    return render_run(ws.runner.create_run(project, job, body.environment, body.arguments))


@router.get("/projects/{project_id}/jobs/{job_id}/runs/{run_id}")
def get_run(project_id: str, job_id: str, run_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    job = job_or_404(ws, project_id, job_id)
    return render_run(_run_or_404(ws, job, run_id))


@router.post("/projects/{project_id}/jobs/{job_id}/runs/{run_id}:stop")
def stop_run(project_id: str, job_id: str, run_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    job = job_or_404(ws, project_id, job_id)
    doc = _run_or_404(ws, job, run_id)
    if not ws.runner.stop(run_id):
        raise failed_precondition(f"job run {run_id!r} is not active (status {doc['status']})")
    return render_run(_run_or_404(ws, job, run_id))
