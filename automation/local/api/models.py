"""Model endpoints: /api/v2/projects/{project_id}/models[/{model_id}] and GET /api/v2/models.

Model names are unique within a project (a duplicate is 409, code 6), so a retried create cannot
make a twin. ``access_key`` is 32 lowercase alphanumerics; ``auth_enabled`` is the opposite of
``disable_authentication``. ``auto_build_model``/``auto_deploy_model`` work as in CML.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from automation.local.api.builds import ShortCreateModelBuild, ShortCreateModelDeployment, start_build
from automation.local.api.common import model_or_404, non_negative, params, project_or_404, workspace
from automation.local.core.ids import crn, new_access_key, new_uuid
from automation.local.core.listing import apply, envelope, parse_list_query
from automation.local.core.problems import already_exists, bad_request
from automation.local.core.shapes import dig, require_text, short_project, short_user
from automation.local.core.timefmt import now, rfc3339
from automation.local.domain import cascades

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

router = APIRouter(prefix="/api/v2")
KIND = "model"
CREATOR_KEYS = ("creator.email", "creator.name", "creator.username")
FILTER_KEYS = ("auth_enabled", "description", "name", *CREATOR_KEYS)
SORT_KEYS = (*FILTER_KEYS, "created_at", "updated_at")


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


def render_model(doc: dict[str, Any], project: dict[str, Any]) -> dict[str, Any]:
    res = doc.get("default_resources", {})
    rep = doc.get("default_replication_policy", {})
    return {
        "id": doc["id"],
        "name": doc["name"],
        "description": doc.get("description", ""),
        "creator": short_user(),
        "access_key": doc["access_key"],
        "deletion_status": "",
        "created_at": rfc3339(doc["created_at"]),
        "updated_at": rfc3339(doc["updated_at"]),
        "crn": crn("model", doc["id"]),
        "auth_enabled": doc.get("auth_enabled", True),
        "project": short_project(project),
        "registered_model_id": doc.get("registered_model_id", ""),
        "visibility": doc.get("visibility", "private"),
        "default_resources": {
            "cpu_millicores": str(res.get("cpu_millicores", 1000)),
            "memory_mb": str(res.get("memory_mb", 2048)),
            "nvidia_gpus": str(res.get("nvidia_gpus", 0)),
        },
        "default_replication_policy": {
            "num_replicas": str(rep.get("num_replicas", 1)),
            "type": rep.get("type", "fixed"),
        },
        "run_as": doc.get("run_as", 0),
        "accelerator_label_id": "0",
        "resource_group_id": 0,
        "resource_profile_id": 0,
    }


def _field(doc: dict[str, Any], key: str) -> Any:
    if key.startswith("creator."):
        return short_user()[key.split(".", 1)[1]]
    return dig(doc, key)


def _check_unique(ws: Workspace, project_id: str, name: str, except_id: str = "") -> None:
    for doc in ws.store.list(KIND, parent=project_id):
        if doc["id"] != except_id and doc["name"] == name:
            raise already_exists(
                f"a model named {name!r} already exists in project {project_id!r} (id {doc['id']})"
            )


def _projects_by_id(ws: Workspace) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in ws.store.list("project")}


@router.get("/models")
def list_all_models(request: Request) -> dict[str, Any]:
    ws = workspace(request)
    query = parse_list_query(params(request), filter_keys=FILTER_KEYS, sort_keys=SORT_KEYS)
    projects = _projects_by_id(ws)
    docs = [d for d in ws.store.list(KIND) if d["project_id"] in projects]
    page, token = apply(docs, query, _field)
    return envelope("models", [render_model(d, projects[d["project_id"]]) for d in page], token)


@router.get("/projects/{project_id}/models")
def list_models(project_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    query = parse_list_query(params(request), filter_keys=FILTER_KEYS, sort_keys=SORT_KEYS)
    page, token = apply(ws.store.list(KIND, parent=project_id), query, _field)
    return envelope("models", [render_model(d, project) for d in page], token)


@router.post("/projects/{project_id}/models")
def create_model(project_id: str, body: CreateModelRequest, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    name = require_text(body.name, "name")
    if body.registered_model_id:
        ws.mlflow.model_name(body.registered_model_id)  # 404 when unknown
    if body.auto_deploy_model and not body.auto_build_model:
        raise bad_request("auto_deploy_model needs auto_build_model")
    if body.auto_build_model and body.auto_build_config is None:
        raise bad_request("auto_build_model needs auto_build_config")
    ts = now()
    doc = {
        "id": new_uuid(),
        "project_id": project_id,
        "name": name,
        "description": body.description,
        "access_key": new_access_key(),
        "auth_enabled": not body.disable_authentication,
        "registered_model_id": body.registered_model_id,
        "visibility": body.visibility or "private",
        "run_as": body.run_as,
        "default_resources": {"cpu_millicores": 1000, "memory_mb": 2048, "nvidia_gpus": 0},
        "default_replication_policy": {"num_replicas": 1, "type": "fixed"},
        "created_at": ts,
        "updated_at": ts,
    }
    with ws.store.lock:
        _check_unique(ws, project_id, name)
        ws.store.insert(KIND, doc["id"], doc, parent=project_id)
    if body.auto_build_model and body.auto_build_config is not None:
        try:
            start_build(ws, doc, body.auto_build_config, body.auto_deploy_model, body.auto_deployment_config)
        except Exception:
            ws.store.delete(KIND, doc["id"])  # all or nothing, so a retry is clean
            raise
    return render_model(doc, project)


@router.get("/projects/{project_id}/models/{model_id}")
def get_model(project_id: str, model_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    return render_model(model_or_404(ws, project_id, model_id), project)


@router.patch("/projects/{project_id}/models/{model_id}")
def update_model(project_id: str, model_id: str, body: UpdateSingleModel, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    doc = model_or_404(ws, project_id, model_id)
    fields = body.model_fields_set
    if "name" in fields and body.name is not None:
        doc["name"] = require_text(body.name, "name")
    for key in ("description", "visibility", "run_as"):
        if key in fields and getattr(body, key) is not None:
            doc[key] = getattr(body, key)
    if body.default_resources is not None:
        for key, value in body.default_resources.model_dump(exclude_none=True).items():
            non_negative(value, f"default_resources.{key}")
            doc["default_resources"][key] = value
    if body.default_replication_policy is not None:
        policy = body.default_replication_policy.model_dump(exclude_none=True)
        non_negative(policy.get("num_replicas"), "default_replication_policy.num_replicas")
        doc["default_replication_policy"].update(policy)
    doc["updated_at"] = now()
    with ws.store.lock:
        _check_unique(ws, project_id, doc["name"], except_id=model_id)
        ws.store.update(KIND, model_id, doc)
    return render_model(doc, project)


@router.delete("/projects/{project_id}/models/{model_id}")
def delete_model(project_id: str, model_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    model_or_404(ws, project_id, model_id)
    cascades.delete_model(ws, model_id)
    return {}
