"""Helpers every route module uses: the workspace from the request, typed lookups that 404 properly."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request
from pydantic import BaseModel

from automation.local.core.problems import not_found
from automation.local.state import records
from automation.local.state.records import Application, Build, Deployment, Job, JobRun, Model, Project, R

if TYPE_CHECKING:
    from automation.local.workspace import Workspace


def workspace(request: Request) -> Workspace:
    return request.app.state.workspace  # type: ignore[no-any-return]


def params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def given(body: BaseModel) -> dict[str, Any]:
    """The fields a request body set (parsed and converted), for the domain rules to check."""
    return body.model_dump(include=body.model_fields_set)


def _child_or_404(ws: Workspace, cls: type[R], ident: str, owner: str, what: str) -> R:
    """A record of ``cls`` whose parent field is ``owner`` (anything else is a 404 naming ``what``)."""
    record = records.load(ws.store, cls, ident)
    if record is None or record.parent != owner:
        raise not_found(what, ident)
    return record


def project_or_404(ws: Workspace, project_id: str) -> Project:
    project = records.load(ws.store, Project, project_id)
    if project is None:
        raise not_found("project", project_id)
    return project


def job_or_404(ws: Workspace, project_id: str, job_id: str) -> Job:
    return _child_or_404(ws, Job, job_id, project_id, "job")


def run_or_404(ws: Workspace, job: Job, run_id: str) -> JobRun:
    return _child_or_404(ws, JobRun, run_id, job.id, "job run")


def application_or_404(ws: Workspace, project_id: str, app_id: str) -> Application:
    return _child_or_404(ws, Application, app_id, project_id, "application")


def model_or_404(ws: Workspace, project_id: str, model_id: str) -> Model:
    return _child_or_404(ws, Model, model_id, project_id, "model")


def build_or_404(ws: Workspace, model: Model, build_id: str) -> Build:
    return _child_or_404(ws, Build, build_id, model.id, "model build")


def deployment_or_404(ws: Workspace, build: Build, deployment_id: str) -> Deployment:
    return _child_or_404(ws, Deployment, deployment_id, build.id, "model deployment")
