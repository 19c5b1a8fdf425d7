"""Applications: /api/v2/projects/{project_id}/applications[/{application_id}[:stop|:restart]].

Creating an application starts it (as CML does). The rules (required fields, DNS-label
subdomains, runtimes) are ``domain/applications.py``'s; a subdomain taken in the workspace is 409
(gRPC code 6, ALREADY_EXISTS). An update (PATCH) changes the stored fields only; ``:restart``
applies them. The processes: ``workloads/applications.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from automation.local.api.bodies import EnvMap, EnvString
from automation.local.api.common import application_or_404, given, params, project_or_404, workspace
from automation.local.api.render import render_application
from automation.local.core.listing import ListSpec
from automation.local.domain import applications
from automation.local.state import records
from automation.local.state.records import Application
from automation.local.workloads.applications import STATUS_WORD

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

router = APIRouter(prefix="/api/v2")
BASE = "/projects/{project_id}/applications"
CREATOR_KEYS = ("creator.email", "creator.name", "creator.username")
FILTER_KEYS = (
    *CREATOR_KEYS,
    "bypass_authentication",
    "description",
    "full_name",
    "kernel",
    "name",
    "runtime_identifier",
    "script",
    "status",
    "subdomain",
)
APPLICATIONS = ListSpec(
    "applications",
    FILTER_KEYS,
    (*FILTER_KEYS, "created_at", "updated_at"),
    {
        "status": lambda app: STATUS_WORD.get(app.status, app.status.lower()),
        "full_name": lambda app: app.name,
    },
)


class ApplicationFields(BaseModel):
    """Fields shared by CreateApplicationRequest and the partial Application of UpdateApplication."""

    model_config = ConfigDict(extra="ignore")
    name: str | None = None
    subdomain: str | None = None
    description: str | None = None
    script: str | None = None
    cpu: float | None = None
    memory: float | None = None
    nvidia_gpu: int | None = None
    environment: EnvMap = None
    kernel: str | None = None
    bypass_authentication: bool | None = None
    runtime_identifier: str | None = None
    runtime_addon_identifiers: list[str] | None = None
    run_as: int | None = None
    cdv_app: bool | None = None


def _shown(ws: Workspace, project_id: str, app: Application | None, app_id: str) -> dict[str, Any]:
    """An application after a change (read again when the change found it gone: a 404)."""
    return render_application(app or application_or_404(ws, project_id, app_id))


@router.get(BASE)
def list_applications(project_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    items = records.load_all(ws.store, Application, project_id)
    return APPLICATIONS.page(params(request), items, render_application)


@router.post(BASE)
def create_application(project_id: str, body: ApplicationFields, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    return render_application(applications.create(ws, project, given(body)))


@router.get(BASE + "/{application_id}")
def get_application(project_id: str, application_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    return render_application(application_or_404(ws, project_id, application_id))


class UpdateApplicationRequest(ApplicationFields):
    """The PATCH body is the Application message: ``environment`` is a JSON string there."""

    environment: EnvString = None


@router.patch(BASE + "/{application_id}")
def update_application(
    project_id: str, application_id: str, body: UpdateApplicationRequest, request: Request
) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    app = application_or_404(ws, project_id, application_id)
    return _shown(ws, project_id, applications.update(ws, project, app, given(body)), application_id)


@router.delete(BASE + "/{application_id}")
def delete_application(project_id: str, application_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    application_or_404(ws, project_id, application_id)
    ws.applications.remove(application_id)
    return {}


@router.post(BASE + "/{application_id}:stop")
def stop_application(project_id: str, application_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    application_or_404(ws, project_id, application_id)
    return _shown(ws, project_id, ws.applications.stop(application_id), application_id)


@router.post(BASE + "/{application_id}:restart")
def restart_application(project_id: str, application_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    application_or_404(ws, project_id, application_id)
    return _shown(ws, project_id, ws.applications.restart(application_id), application_id)
