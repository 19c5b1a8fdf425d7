"""Model builds and deployments under /api/v2/projects/{project_id}/models/{model_id}/builds.

Builds come from the registry (``registered_model_version_id``) or from a project file
(``file_path`` + ``function_name``, as AMP ``build_model`` tasks make; the build checks the file
defines the function, see builds.py). ``runtime_identifier`` is required and must
be in the catalogue, as for jobs. Deploying a build that is not ``built`` is 400 (FAILED_PRECONDITION).
Stopping a deployment that is not running returns it unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from automation.local.api.common import (
    build_or_404,
    deployment_or_404,
    model_or_404,
    non_negative,
    params,
    project_or_404,
    workspace,
)
from automation.local.api.render import render_build, render_deployment
from automation.local.api.runtimeaddons import refuse_addons
from automation.local.core.files import resolve_inside
from automation.local.core.listing import apply, envelope, parse_list_query
from automation.local.core.problems import bad_request, failed_precondition
from automation.local.core.shapes import EnvMap, dig, short_user
from automation.local.domain.registry import resolve_version
from automation.local.workloads.builds import KIND as BUILD_KIND
from automation.local.workloads.deployments import KIND as DEPLOYMENT_KIND
from automation.local.workloads.runtimes import is_known, why_unknown

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

router = APIRouter(prefix="/api/v2")
CREATOR_KEYS = ("creator.email", "creator.name", "creator.username")
BUILD_FILTER_KEYS = ("comment", "crn", "status", *CREATOR_KEYS)
BUILD_SORT_KEYS = (*BUILD_FILTER_KEYS, "built_at", "created_at", "updated_at")
DEPLOYMENT_FILTER_KEYS = ("status",)
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


def deployment_fields(body: ShortCreateModelDeployment | None) -> dict[str, Any]:
    body = body or ShortCreateModelDeployment()
    for key in ("cpu", "memory", "nvidia_gpus", "replicas"):
        non_negative(getattr(body, key), key)
    return {
        "cpu": body.cpu,
        "memory": body.memory,
        "nvidia_gpus": body.nvidia_gpus,
        "replicas": body.replicas,
        "environment": body.environment or {},
    }


def start_build(
    ws: Workspace,
    model: dict[str, Any],
    body: ShortCreateModelBuild,
    auto_deploy: bool,
    deploy_config: ShortCreateModelDeployment | None,
) -> dict[str, Any]:
    """Validate a build request and queue it (also used by CreateModel's auto_build_model)."""
    if not body.registered_model_version_id and not (body.file_path or body.function_name):
        raise bad_request("registered_model_version_id (or file_path and function_name) is required")
    if not body.runtime_identifier:
        raise bad_request("runtime_identifier is required")
    if not is_known(body.runtime_identifier):
        raise bad_request(why_unknown(body.runtime_identifier or ""))
    refuse_addons(body.runtime_addon_identifiers)
    if not body.registered_model_version_id:
        return _start_file_build(ws, model, body, auto_deploy, deploy_config)
    name, _, model_uri = resolve_version(ws.mlflow, body.registered_model_version_id)
    if model.get("registered_model_id") and ws.mlflow.model_public(name) != model["registered_model_id"]:
        raise bad_request(
            f"registered_model_version_id {body.registered_model_version_id!r} is a version of "
            f"{name!r}, not of the model's registered model {model['registered_model_id']!r}"
        )
    fields = {
        "comment": body.comment,
        "file_path": "",
        "function_name": "",
        "kernel": body.kernel,
        "runtime_identifier": body.runtime_identifier,
        "runtime_addon_identifiers": body.runtime_addon_identifiers or [],
        "registered_model_version_id": body.registered_model_version_id,
        "model_root_dir": body.model_root_dir,
        "build_script_path": body.build_script_path,
        "auto_deploy_model": auto_deploy,
        "auto_deployment_config": deployment_fields(deploy_config),
    }
    return ws.builds.create(model, fields, model_uri)


def _start_file_build(
    ws: Workspace,
    model: dict[str, Any],
    body: ShortCreateModelBuild,
    auto_deploy: bool,
    deploy_config: ShortCreateModelDeployment | None,
) -> dict[str, Any]:
    """A build of ``function_name`` in the project file ``file_path`` (checked by the build itself)."""
    for key in ("file_path", "function_name"):
        if not getattr(body, key).strip():
            raise bad_request(f"{key} is required for a file-based build (file_path and function_name)")
    if not body.function_name.isidentifier():
        raise bad_request(f"function_name {body.function_name!r} is not a Python identifier")
    root = ws.paths.project_dir(model["project_id"])
    resolve_inside(root, body.file_path, field="file_path", allow_root=False)
    if body.build_script_path:
        resolve_inside(root, body.build_script_path, field="build_script_path", allow_root=False)
    fields = {
        "comment": body.comment,
        "file_path": body.file_path,
        "function_name": body.function_name,
        "kernel": body.kernel,
        "runtime_identifier": body.runtime_identifier,
        "runtime_addon_identifiers": body.runtime_addon_identifiers or [],
        "registered_model_version_id": "",
        "model_root_dir": body.model_root_dir,
        "build_script_path": body.build_script_path,
        "auto_deploy_model": auto_deploy,
        "auto_deployment_config": deployment_fields(deploy_config),
    }
    return ws.builds.create(model, fields, "")


def _build_field(doc: dict[str, Any], key: str) -> Any:
    if key.startswith("creator."):
        return short_user()[key.split(".", 1)[1]]
    if key == "crn":
        return render_build(doc)["crn"]
    return dig(doc, key)


@router.get(BASE)
def list_builds(project_id: str, model_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    model = model_or_404(ws, project_id, model_id)
    query = parse_list_query(params(request), filter_keys=BUILD_FILTER_KEYS, sort_keys=BUILD_SORT_KEYS)
    page, token = apply(ws.store.list(BUILD_KIND, parent=model["id"]), query, _build_field)
    return envelope("model_builds", [render_build(d) for d in page], token)


@router.post(BASE)
def create_build(
    project_id: str, model_id: str, body: CreateModelBuildRequest, request: Request
) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    model = model_or_404(ws, project_id, model_id)
    doc = start_build(ws, model, body, body.auto_deploy_model, body.auto_deployment_config)
    return render_build(doc)


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
    build = build_or_404(ws, model, build_id)
    for dep in ws.store.list(DEPLOYMENT_KIND, parent=build["id"]):
        ws.deployments.remove(dep["id"])
    ws.builds.remove(build["id"])
    return {}


# --- deployments -------------------------------------------------------------------------------

DEP_BASE = BASE + "/{build_id}/deployments"


def _chain(
    ws: Workspace, project_id: str, model_id: str, build_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    project_or_404(ws, project_id)
    model = model_or_404(ws, project_id, model_id)
    return model, build_or_404(ws, model, build_id)


@router.get(DEP_BASE)
def list_deployments(project_id: str, model_id: str, build_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    _, build = _chain(ws, project_id, model_id, build_id)
    query = parse_list_query(params(request), filter_keys=DEPLOYMENT_FILTER_KEYS)
    page, token = apply(ws.store.list(DEPLOYMENT_KIND, parent=build["id"]), query, dig)
    return envelope("model_deployments", [render_deployment(d) for d in page], token)


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
    if build["status"] != "built":
        raise failed_precondition(f"build {build_id!r} cannot be deployed: its status is {build['status']!r}")
    return render_deployment(ws.deployments.create(model, build, deployment_fields(body)))


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
    deployment_or_404(ws, build, deployment_id)
    doc = ws.deployments.stop(deployment_id)
    return render_deployment(doc or deployment_or_404(ws, build, deployment_id))


@router.post(DEP_BASE + "/{deployment_id}:restart")
def restart_deployment(
    project_id: str, model_id: str, build_id: str, deployment_id: str, request: Request
) -> dict[str, Any]:
    ws = workspace(request)
    _, build = _chain(ws, project_id, model_id, build_id)
    deployment_or_404(ws, build, deployment_id)
    if build["status"] != "built":
        raise failed_precondition(f"build {build_id!r} is not built (status {build['status']!r})")
    doc = ws.deployments.restart(deployment_id)
    return render_deployment(doc or deployment_or_404(ws, build, deployment_id))
