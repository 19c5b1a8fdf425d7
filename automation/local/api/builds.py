"""Model builds and deployments under /api/v2/projects/{project_id}/models/{model_id}/builds.

Builds come from the registry (``registered_model_version_id``) or from a project file
(``file_path`` + ``function_name``, as AMP ``build_model`` tasks make; the build checks the file
defines the function, see ``workloads/builds.py``). The rules (required runtime, which builds
deploy) are ``domain/models.py``'s. Stopping a deployment that is not running returns it unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from automation.local.api.bodies import EnvMap
from automation.local.api.common import (
    build_or_404,
    deployment_or_404,
    model_or_404,
    params,
    project_or_404,
    workspace,
)
from automation.local.api.render import render_build, render_deployment
from automation.local.core.ids import crn
from automation.local.core.listing import ListSpec
from automation.local.domain import cascades, models
from automation.local.state import records
from automation.local.state.records import Build, Deployment, Model

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

router = APIRouter(prefix="/api/v2")
CREATOR_KEYS = ("creator.email", "creator.name", "creator.username")
BUILD_FILTER_KEYS = ("comment", "crn", "status", *CREATOR_KEYS)
BUILDS = ListSpec(
    "model_builds",
    BUILD_FILTER_KEYS,
    (*BUILD_FILTER_KEYS, "built_at", "created_at", "updated_at"),
    {"crn": lambda build: crn("build", build.id)},
)
DEPLOYMENTS = ListSpec("model_deployments", ("status",))
BASE = "/projects/{project_id}/models/{model_id}/builds"


class ShortCreateModelDeployment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    cpu: float | None = None
    memory: float | None = None
    nvidia_gpus: int | None = None
    environment: EnvMap = None
    replicas: int | None = None
    deployment_secrets: dict[str, str] | None = None  # write-only in CML; not kept locally


class ShortCreateModelBuild(BaseModel):
    model_config = ConfigDict(extra="ignore")
    comment: str = ""
    file_path: str = ""
    function_name: str = ""
    kernel: str = ""
    runtime_identifier: str = ""
    runtime_addon_identifiers: list[str] | None = None
    registered_model_version_id: str = ""
    model_root_dir: str = ""
    build_script_path: str = ""


class CreateModelBuildRequest(ShortCreateModelBuild):
    auto_deploy_model: bool = False
    auto_deployment_config: ShortCreateModelDeployment | None = None


@router.get(BASE)
def list_builds(project_id: str, model_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    model = model_or_404(ws, project_id, model_id)
    return BUILDS.page(params(request), records.load_all(ws.store, Build, model.id), render_build)


@router.post(BASE)
def create_build(
    project_id: str, model_id: str, body: CreateModelBuildRequest, request: Request
) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    model = model_or_404(ws, project_id, model_id)
    deploy = body.auto_deployment_config.model_dump() if body.auto_deployment_config is not None else None
    return render_build(models.start_build(ws, model, body.model_dump(), body.auto_deploy_model, deploy))


@router.get(BASE + "/{build_id}")
def get_build(project_id: str, model_id: str, build_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    model = model_or_404(ws, project_id, model_id)
    return render_build(build_or_404(ws, model, build_id))


@router.delete(BASE + "/{build_id}")
def delete_build(project_id: str, model_id: str, build_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    model = model_or_404(ws, project_id, model_id)
    cascades.delete_build(ws, build_or_404(ws, model, build_id).id)
    return {}


# --- deployments -------------------------------------------------------------------------------

DEP_BASE = BASE + "/{build_id}/deployments"


def _chain(ws: Workspace, project_id: str, model_id: str, build_id: str) -> tuple[Model, Build]:
    project_or_404(ws, project_id)
    model = model_or_404(ws, project_id, model_id)
    return model, build_or_404(ws, model, build_id)


def _shown(ws: Workspace, build: Build, dep: Deployment | None, deployment_id: str) -> dict[str, Any]:
    """A deployment after a change (read again when the change found it gone: a 404)."""
    return render_deployment(dep or deployment_or_404(ws, build, deployment_id))


@router.get(DEP_BASE)
def list_deployments(project_id: str, model_id: str, build_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    _, build = _chain(ws, project_id, model_id, build_id)
    items = records.load_all(ws.store, Deployment, build.id)
    return DEPLOYMENTS.page(params(request), items, render_deployment)


@router.post(DEP_BASE)
def create_deployment(
    project_id: str,
    model_id: str,
    build_id: str,
    request: Request,
    body: ShortCreateModelDeployment | None = None,
) -> dict[str, Any]:
    ws = workspace(request)
    model, build = _chain(ws, project_id, model_id, build_id)
    spec = body.model_dump() if body is not None else None
    return render_deployment(models.deploy(ws, model, build, spec))


@router.get(DEP_BASE + "/{deployment_id}")
def get_deployment(
    project_id: str, model_id: str, build_id: str, deployment_id: str, request: Request
) -> dict[str, Any]:
    ws = workspace(request)
    _, build = _chain(ws, project_id, model_id, build_id)
    return render_deployment(deployment_or_404(ws, build, deployment_id))


@router.post(DEP_BASE + "/{deployment_id}:stop")
def stop_deployment(
    project_id: str, model_id: str, build_id: str, deployment_id: str, request: Request
) -> dict[str, Any]:
    ws = workspace(request)
    _, build = _chain(ws, project_id, model_id, build_id)
    dep = deployment_or_404(ws, build, deployment_id)
    return _shown(ws, build, models.stop(ws, dep), deployment_id)


@router.post(DEP_BASE + "/{deployment_id}:restart")
def restart_deployment(
    project_id: str, model_id: str, build_id: str, deployment_id: str, request: Request
) -> dict[str, Any]:
    ws = workspace(request)
    _, build = _chain(ws, project_id, model_id, build_id)
    dep = deployment_or_404(ws, build, deployment_id)
    return _shown(ws, build, models.restart(ws, build, dep), deployment_id)
