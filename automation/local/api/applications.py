"""Applications: /api/v2/projects/{project_id}/applications[/{application_id}[:stop|:restart]].

Creating an application starts it (as CML does). ``name``, ``subdomain`` and ``script`` are
required; the subdomain must be a DNS label and unique in the workspace (409, gRPC code 6,
ALREADY_EXISTS). ``runtime_identifier``, when given, must be in the catalogue. An update (PATCH)
changes the stored fields only; ``:restart`` applies them. The processes: applications.py.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from automation.local.api.common import non_negative, params, project_or_404, workspace
from automation.local.api.render import render_application
from automation.local.api.runtimeaddons import refuse_addons
from automation.local.core.files import resolve_inside
from automation.local.core.listing import apply, envelope, parse_list_query
from automation.local.core.problems import bad_request, failed_precondition, not_found
from automation.local.core.shapes import EnvMap, EnvString, require_text, short_user
from automation.local.workloads.applications import KIND, STATUS_WORD
from automation.local.workloads.runtimes import is_known, why_unknown

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
SORT_KEYS = (*FILTER_KEYS, "created_at", "updated_at")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


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


def _fields(ws: Workspace, project: dict[str, Any], body: ApplicationFields) -> dict[str, Any]:
    """Validate the fields the client set; return them as stored."""
    given = body.model_fields_set
    out: dict[str, Any] = {}
    if "name" in given:
        out["name"] = require_text(body.name, "name")
    if "subdomain" in given:
        subdomain = require_text(body.subdomain, "subdomain")
        if not _SUBDOMAIN.match(subdomain):
            raise bad_request(
                f"subdomain {subdomain!r} is not a DNS label: use 1 to 63 lowercase letters, digits "
                "and '-', starting and ending with a letter or digit"
            )
        out["subdomain"] = subdomain
    if "script" in given:
        script = require_text(body.script, "script")
        resolve_inside(ws.paths.project_dir(project["id"]), script, field="script", allow_root=False)
        out["script"] = script
    if "runtime_identifier" in given and body.runtime_identifier:
        if not is_known(body.runtime_identifier):
            raise bad_request(why_unknown(body.runtime_identifier or ""))
        out["runtime_identifier"] = body.runtime_identifier
    for key in ("cpu", "memory", "nvidia_gpu"):
        value = getattr(body, key)
        if key in given and value is not None:
            non_negative(value, key)
            out[key] = value
    if "runtime_addon_identifiers" in given:
        refuse_addons(body.runtime_addon_identifiers)
    for key in ("description", "kernel", "bypass_authentication", "runtime_addon_identifiers", "run_as"):
        value = getattr(body, key)
        if key in given and value is not None:
            out[key] = value
    if "cdv_app" in given and body.cdv_app is not None:
        out["cdv_app"] = body.cdv_app
    if "environment" in given:
        out["environment"] = body.environment or {}
    return out


def _field(doc: dict[str, Any], key: str) -> Any:
    if key.startswith("creator."):
        return short_user()[key.split(".", 1)[1]]
    if key == "status":
        return STATUS_WORD.get(doc["status"], doc["status"].lower())
    if key == "full_name":
        return doc.get("name", "")
    return doc.get(key)


def _app_or_404(ws: Workspace, project_id: str, app_id: str) -> dict[str, Any]:
    doc = ws.store.get(KIND, app_id)
    if doc is None or doc["project_id"] != project_id:
        raise not_found("application", app_id)
    return doc


@router.get(BASE)
def list_applications(project_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    query = parse_list_query(params(request), filter_keys=FILTER_KEYS, sort_keys=SORT_KEYS)
    page, token = apply(ws.store.list(KIND, parent=project_id), query, _field)
    return envelope("applications", [render_application(d) for d in page], token)


@router.post(BASE)
def create_application(project_id: str, body: ApplicationFields, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    for key in ("name", "subdomain", "script"):
        if key not in body.model_fields_set:
            raise bad_request(f"{key} is required")
    if project.get("creation_status") != "success":
        raise failed_precondition(
            f"project {project_id!r} is not ready (creation_status {project.get('creation_status')!r})"
        )
    defaults: dict[str, Any] = {
        "description": "",
        "cpu": 1.0,
        "memory": 1.0,
        "nvidia_gpu": 0,
        "environment": {},
        "kernel": "",
        "bypass_authentication": False,
        "runtime_identifier": "",
        "runtime_addon_identifiers": [],
        "run_as": 0,
        "cdv_app": False,
    }
    doc = ws.applications.create(project, {**defaults, **_fields(ws, project, body)})
    return render_application(doc)


@router.get(BASE + "/{application_id}")
def get_application(project_id: str, application_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    return render_application(_app_or_404(ws, project_id, application_id))


class UpdateApplicationRequest(ApplicationFields):
    """The PATCH body is the Application message: ``environment`` is a JSON string there."""

    environment: EnvString = None


@router.patch(BASE + "/{application_id}")
def update_application(
    project_id: str, application_id: str, body: UpdateApplicationRequest, request: Request
) -> dict[str, Any]:
    ws = workspace(request)
    project = project_or_404(ws, project_id)
    _app_or_404(ws, project_id, application_id)
    doc = ws.applications.update(application_id, _fields(ws, project, body))
    return render_application(doc or _app_or_404(ws, project_id, application_id))


@router.delete(BASE + "/{application_id}")
def delete_application(project_id: str, application_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    _app_or_404(ws, project_id, application_id)
    ws.applications.remove(application_id)
    return {}


@router.post(BASE + "/{application_id}:stop")
def stop_application(project_id: str, application_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    _app_or_404(ws, project_id, application_id)
    doc = ws.applications.stop(application_id)
    return render_application(doc or _app_or_404(ws, project_id, application_id))


@router.post(BASE + "/{application_id}:restart")
def restart_application(project_id: str, application_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    _app_or_404(ws, project_id, application_id)
    doc = ws.applications.restart(application_id)
    return render_application(doc or _app_or_404(ws, project_id, application_id))
