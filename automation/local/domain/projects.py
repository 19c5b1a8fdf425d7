"""Project rules: names, templates, visibility and engine type.

Project names are unique per owner (CML refuses a second project with the same name and owner too,
since the name makes the URL slug): a duplicate is 409, gRPC code 6. Templates: ``blank``,
``local`` (or none) make an empty folder; ``git_url`` clones (``workloads/gitclone.py``); other CML
templates (``Python``, ``R``...) and ``parent_project`` forks are refused with 400, since there is
nothing to copy them from. Deleting a project: ``cascades.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from automation.local.core.ids import new_public_id
from automation.local.core.problems import already_exists, bad_request
from automation.local.core.shapes import require_text, slugify
from automation.local.core.timefmt import now
from automation.local.domain.fields import copy_set
from automation.local.state import records
from automation.local.state.records import Project
from automation.local.workloads.gitclone import clone_in_background

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

VISIBILITIES = ("private", "organization", "public")
BLANK_TEMPLATES = ("", "blank", "local", "git")
LIMITS = ("shared_memory_limit", "ephemeral_storage_request", "ephemeral_storage_limit")


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
    for other in records.load_all(ws.store, Project):
        if other.id != except_id and (other.name == name or other.slug == slugify(name)):
            raise already_exists(f"a project named {name!r} already exists (id {other.id})")


def create(ws: Workspace, given: Mapping[str, Any]) -> Project:
    """A new project: an empty folder, or a clone of ``git_url`` in the background."""
    name = require_text(given.get("name"), "name")
    template = (given.get("template") or "").strip()
    git_url = given.get("git_url") or ""
    if template.lower() not in BLANK_TEMPLATES:
        raise bad_request(
            f"template {template!r} is not available locally; use 'blank' (or 'local') for an empty "
            "project, or git_url to clone a local repository"
        )
    if template.lower() == "git" and not git_url:
        raise bad_request("template 'git' needs git_url")
    if given.get("parent_project"):
        raise bad_request("parent_project (forking) is not supported by the local workspace")
    ts = now()
    project = Project(
        id=new_public_id(),
        name=name,
        slug=slugify(name),
        description=given.get("description", ""),
        visibility=_visibility(given.get("visibility", "")),
        default_engine_type=_engine(given.get("default_project_engine_type", "")),
        created_at=ts,
        updated_at=ts,
        creation_status="creating" if git_url else "success",
        shared_memory_limit=given.get("shared_memory_limit", 0),
        environment=given.get("environment") or {},
        git_url=git_url,
        git_ref=given.get("git_ref", ""),
    )
    with ws.store.lock:  # the uniqueness check and the insert must not interleave
        _check_unique(ws, name)
        records.insert(ws.store, project)
    if git_url:
        clone_in_background(ws, project.id, git_url, project.git_ref)
    else:
        ws.paths.project_dir(project.id).mkdir(parents=True, exist_ok=True)
    ws.log.info("project %s (%s) created", project.id, name)
    return project


def update(ws: Workspace, project: Project, given: Mapping[str, Any]) -> Project | None:
    """The project with the changes stored; ``None`` if it was deleted meanwhile."""
    changes: dict[str, Any] = {}
    if given.get("name") is not None:
        changes["name"] = require_text(given["name"], "name")
        changes["slug"] = slugify(changes["name"])
    changes.update(copy_set(given, ("description",)))
    if given.get("visibility") is not None:
        changes["visibility"] = _visibility(given["visibility"])
    if given.get("default_engine_type") is not None:
        changes["default_engine_type"] = _engine(given["default_engine_type"])
    changes.update(copy_set(given, LIMITS, numbers=True))
    if "environment" in given:
        changes["environment"] = given["environment"] or {}
    changes["updated_at"] = now()
    with ws.store.lock:
        if "name" in changes:
            _check_unique(ws, changes["name"], except_id=project.id)
        return records.patch(ws.store, Project, project.id, **changes)
