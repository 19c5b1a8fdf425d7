"""Model endpoints: /api/v2/projects/{project_id}/models[/{model_id}] and GET /api/v2/models.

``access_key`` is 32 lowercase alphanumerics. The rules (unique names, ``auto_build_model`` and
``auto_deploy_model`` as in CML) are ``domain/models.py``'s; deleting one is ``domain/cascades.py``'s.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from automation.local.api.builds import ShortCreateModelBuild, ShortCreateModelDeployment
from automation.local.api.common import given, model_or_404, params, project_or_404, workspace
from automation.local.api.render import render_model
from automation.local.core.listing import ListSpec
from automation.local.domain import cascades, models
from automation.local.state import records
from automation.local.state.records import Model, Project

router = APIRouter(prefix="/api/v2")
CREATOR_KEYS = ("creator.email", "creator.name", "creator.username")
FILTER_KEYS = ("auth_enabled", "description", "name", *CREATOR_KEYS)
MODELS = ListSpec("models", FILTER_KEYS, (*FILTER_KEYS, "created_at", "updated_at"))


class DefaultResources(BaseModel):
    model_config = ConfigDict(extra="ignore")
    cpu_millicores: int | None = None
    memory_mb: int | None = None
    nvidia_gpus: int | None = None


class ReplicationPolicy(BaseModel):
    model_config = ConfigDict(extra="ignore")
    num_replicas: int | None = None
    type: str | None = None


class CreateModelRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = None
    description: str = ""
    disable_authentication: bool = False
    registered_model_id: str = ""
    run_as: int = 0
    visibility: str = ""
    auto_build_config: ShortCreateModelBuild | None = None
    auto_deployment_config: ShortCreateModelDeployment | None = None
    auto_build_model: bool = False
    auto_deploy_model: bool = False


class UpdateSingleModel(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = None
    description: str | None = None
    visibility: str | None = None
    default_resources: DefaultResources | None = None
    default_replication_policy: ReplicationPolicy | None = None
    run_as: int | None = None


@router.get("/models")
def list_all_models(request: Request) -> dict[str, Any]:
    ws = workspace(request)
    projects = {p.id: p for p in records.load_all(ws.store, Project)}
    items = [m for m in records.load_all(ws.store, Model) if m.project_id in projects]
    return MODELS.page(params(request), items, lambda m: render_model(m, projects[m.project_id]))


@router.get("/projects/{project_id}/models")
def list_models(project_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    items = records.load_all(ws.store, Model, project_id)
    return MODELS.page(params(request), items, lambda m: render_model(m, project))


@router.post("/projects/{project_id}/models")
def create_model(project_id: str, body: CreateModelRequest, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    build = body.auto_build_config.model_dump() if body.auto_build_config is not None else None
    deploy = body.auto_deployment_config.model_dump() if body.auto_deployment_config is not None else None
    return render_model(models.create(ws, project, given(body), build, deploy), project)


@router.get("/projects/{project_id}/models/{model_id}")
def get_model(project_id: str, model_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    return render_model(model_or_404(ws, project_id, model_id), project)


@router.patch("/projects/{project_id}/models/{model_id}")
def update_model(project_id: str, model_id: str, body: UpdateSingleModel, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    model = model_or_404(ws, project_id, model_id)
    return render_model(models.update(ws, model, given(body)), project)


@router.delete("/projects/{project_id}/models/{model_id}")
def delete_model(project_id: str, model_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    model_or_404(ws, project_id, model_id)
    cascades.delete_model(ws, model_id)
    return {}
