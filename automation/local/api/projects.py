"""Projects: GET/POST /api/v2/projects, GET/PATCH/DELETE /api/v2/projects/{project_id}.

The rules (unique names, templates, visibility, engine type) are ``domain/projects.py``'s; deleting
a project takes everything in it (``domain/cascades.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from automation.local.api.bodies import EnvMap, EnvString
from automation.local.api.common import given, params, project_or_404, workspace
from automation.local.api.render import render_project
from automation.local.core.listing import ListSpec
from automation.local.domain import cascades, projects
from automation.local.state import records
from automation.local.state.records import Project

router = APIRouter(prefix="/api/v2")
USER_KEYS = ("email", "name", "username")
FILTER_KEYS = ("description", "name", *(f"{w}.{k}" for w in ("creator", "owner") for k in USER_KEYS))
PROJECTS = ListSpec(
    "projects", FILTER_KEYS, (*FILTER_KEYS, "created_at", "updated_at"), user_prefixes=("creator.", "owner.")
)


class CreateProjectRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = None
    description: str = ""
    visibility: str = ""
    parent_project: str = ""
    git_url: str = ""
    git_ref: str = ""
    template: str = ""
    organization_permission: str = ""
    default_project_engine_type: str = ""
    environment: EnvMap = None
    shared_memory_limit: int = 0
    team_name: str = ""


class UpdateProjectRequest(BaseModel):
    """The writable fields of a Project (the PATCH body is a partial Project)."""

    model_config = ConfigDict(extra="ignore")
    name: str | None = None
    description: str | None = None
    visibility: str | None = None
    default_engine_type: str | None = None
    shared_memory_limit: int | None = None
    environment: EnvString = None  # a JSON string in the Project message
    ephemeral_storage_request: int | None = None
    ephemeral_storage_limit: int | None = None


@router.get("/projects")
def list_projects(request: Request) -> dict[str, Any]:
    ws = workspace(request)
    return PROJECTS.page(params(request), records.load_all(ws.store, Project), render_project)


@router.post("/projects")
def create_project(body: CreateProjectRequest, request: Request) -> dict[str, Any]:
    return render_project(projects.create(workspace(request), given(body)))


@router.get("/projects/{project_id}")
def get_project(project_id: str, request: Request) -> dict[str, Any]:
    return render_project(project_or_404(workspace(request), project_id))


@router.patch("/projects/{project_id}")
def update_project(project_id: str, body: UpdateProjectRequest, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = projects.update(ws, project_or_404(ws, project_id), given(body))
    return render_project(project or project_or_404(ws, project_id))


@router.delete("/projects/{project_id}")
def delete_project(project_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    cascades.delete_project(ws, project_id)
    return {}
