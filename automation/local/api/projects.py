"""Projects: GET/POST /api/v2/projects, GET/PATCH/DELETE /api/v2/projects/{project_id}.

Project names are unique per owner (CML refuses a second project with the same name and owner
too, since the name makes the URL slug): a duplicate is 409, gRPC code 6. Templates: ``blank``,
``local`` (or none) make an empty folder; ``git_url`` clones (see gitclone.py); other CML templates
(``Python``, ``R``...) and ``parent_project`` forks are refused with 400, since there is nothing to
copy them from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from automation.local.api.common import params, project_or_404, workspace
from automation.local.core.ids import new_public_id
from automation.local.core.listing import apply, envelope, parse_list_query
from automation.local.core.problems import already_exists, bad_request
from automation.local.core.shapes import EnvMap, EnvString, dig, env_json, require_text, short_user, slugify
from automation.local.core.timefmt import now, rfc3339
from automation.local.domain import cascades
from automation.local.workloads.gitclone import clone_in_background

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

router = APIRouter(prefix="/api/v2")
KIND = "project"
USER_KEYS = ("email", "name", "username")
FILTER_KEYS = ("description", "name", *(f"{w}.{k}" for w in ("creator", "owner") for k in USER_KEYS))
SORT_KEYS = (*FILTER_KEYS, "created_at", "updated_at")
VISIBILITIES = ("private", "organization", "public")
BLANK_TEMPLATES = ("", "blank", "local", "git")


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


def render_project(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["id"],
        "name": doc["name"],
        "owner": short_user(),
        "creator": short_user(),
        "description": doc.get("description", ""),
        "visibility": doc.get("visibility", "private"),
        "default_engine_type": doc.get("default_engine_type", "ml_runtime"),
        "created_at": rfc3339(doc["created_at"]),
        "updated_at": rfc3339(doc["updated_at"]),
        "creation_status": doc["creation_status"],
        "permissions": {
            "read": True,
            "write": True,
            "admin": True,
            "business_user": False,
            "operator": False,
            "inherit": False,
        },
        "shared_memory_limit": doc.get("shared_memory_limit", 0),
        "environment": env_json(doc.get("environment")),
        "ephemeral_storage_request": doc.get("ephemeral_storage_request", 0),
        "ephemeral_storage_limit": doc.get("ephemeral_storage_limit", 0),
        "slug": doc["slug"],
    }


def _field(doc: dict[str, Any], key: str) -> Any:
    if key.startswith(("creator.", "owner.")):
        return short_user()[key.split(".", 1)[1]]
    return dig(doc, key)


def _visibility(value: str) -> str:
    vis = (value or "private").lower()
    if vis not in VISIBILITIES:
        raise bad_request(f"visibility must be one of {', '.join(VISIBILITIES)}, got {value!r}")
    return vis


def _engine(value: str) -> str:
    engine = value or "ml_runtime"
    if engine != "ml_runtime":
        raise bad_request(f"the local workspace only runs ML runtimes: use 'ml_runtime', not {value!r}")
    return engine


def _check_unique(ws: Workspace, name: str, except_id: str = "") -> None:
    for doc in ws.store.list(KIND):
        if doc["id"] != except_id and (doc["name"] == name or doc["slug"] == slugify(name)):
            raise already_exists(f"a project named {name!r} already exists (id {doc['id']})")


@router.get("/projects")
def list_projects(request: Request) -> dict[str, Any]:
    ws = workspace(request)
    query = parse_list_query(params(request), filter_keys=FILTER_KEYS, sort_keys=SORT_KEYS)
    page, token = apply(ws.store.list(KIND), query, _field)
    return envelope("projects", [render_project(d) for d in page], token)


@router.post("/projects")
def create_project(body: CreateProjectRequest, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    name = require_text(body.name, "name")
    template = body.template.strip()
    if template.lower() not in BLANK_TEMPLATES:
        raise bad_request(
            f"template {template!r} is not available locally; use 'blank' (or 'local') for an empty "
            "project, or git_url to clone a local repository"
        )
    if template.lower() == "git" and not body.git_url:
        raise bad_request("template 'git' needs git_url")
    if body.parent_project:
        raise bad_request("parent_project (forking) is not supported by the local workspace")
    visibility = _visibility(body.visibility)
    engine = _engine(body.default_project_engine_type)
    project_id = new_public_id()
    ts = now()
    doc = {
        "id": project_id,
        "name": name,
        "slug": slugify(name),
        "description": body.description,
        "visibility": visibility,
        "default_engine_type": engine,
        "created_at": ts,
        "updated_at": ts,
        "creation_status": "creating" if body.git_url else "success",
        "shared_memory_limit": body.shared_memory_limit,
        "environment": body.environment or {},
        "git_url": body.git_url,
        "git_ref": body.git_ref,
        "ephemeral_storage_request": 0,
        "ephemeral_storage_limit": 0,
    }
    with ws.store.lock:  # the uniqueness check and the insert must not interleave
        _check_unique(ws, name)
        ws.store.insert(KIND, project_id, doc)
    folder = ws.paths.project_dir(project_id)
    if body.git_url:
        clone_in_background(ws, project_id, body.git_url, body.git_ref)
    else:
        folder.mkdir(parents=True, exist_ok=True)
    ws.log.info("project %s (%s) created", project_id, name)
    return render_project(doc)


@router.get("/projects/{project_id}")
def get_project(project_id: str, request: Request) -> dict[str, Any]:
    return render_project(project_or_404(workspace(request), project_id))


@router.patch("/projects/{project_id}")
def update_project(project_id: str, body: UpdateProjectRequest, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    changes: dict[str, Any] = {}
    fields = body.model_fields_set
    if "name" in fields and body.name is not None:
        changes["name"] = require_text(body.name, "name")
        changes["slug"] = slugify(changes["name"])
    if "description" in fields and body.description is not None:
        changes["description"] = body.description
    if "visibility" in fields and body.visibility is not None:
        changes["visibility"] = _visibility(body.visibility)
    if "default_engine_type" in fields and body.default_engine_type is not None:
        changes["default_engine_type"] = _engine(body.default_engine_type)
    for key in ("shared_memory_limit", "ephemeral_storage_request", "ephemeral_storage_limit"):
        value = getattr(body, key)
        if key in fields and value is not None:
            if value < 0:
                raise bad_request(f"{key} must not be negative")
            changes[key] = value
    if "environment" in fields:
        changes["environment"] = body.environment or {}
    changes["updated_at"] = now()
    with ws.store.lock:
        if "name" in changes:
            _check_unique(ws, changes["name"], except_id=project_id)
        doc = ws.store.update(KIND, project_id, changes)
    return render_project(project_or_404(ws, project_id) if doc is None else doc)


@router.delete("/projects/{project_id}")
def delete_project(project_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    cascades.delete_project(ws, project_id)
    return {}
