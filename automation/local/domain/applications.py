"""Application rules: what an application may hold before its process starts.

``name``, ``subdomain`` and ``script`` are required on create, and the project must be ready; the
subdomain is a DNS label (its uniqueness in the workspace is checked by the supervisor, under its
lock); ``script`` is a file of the project; ``runtime_identifier``, when given, must be in the
catalogue; numbers are non-negative; add-ons are refused. An update changes the stored fields
only; ``:restart`` applies them (``workloads/applications.py`` runs the processes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from automation.local.core.problems import bad_request
from automation.local.core.shapes import require_text
from automation.local.domain.fields import (
    copy_set,
    project_file,
    refuse_addons,
    require_fields,
    require_ready,
    require_runtime,
)
from automation.local.state.records import Application, Project

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

REQUIRED = ("name", "subdomain", "script")
NUMBERS = ("cpu", "memory", "nvidia_gpu")
PLAIN = ("description", "kernel", "bypass_authentication", "runtime_addon_identifiers", "run_as", "cdv_app")
SETTABLE = (*REQUIRED, *NUMBERS, *PLAIN, "runtime_identifier", "environment")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def subdomain_of(value: str | None) -> str:
    subdomain = require_text(value, "subdomain")
    if not _SUBDOMAIN.match(subdomain):
        raise bad_request(
            f"subdomain {subdomain!r} is not a DNS label: use 1 to 63 lowercase letters, digits "
            "and '-', starting and ending with a letter or digit"
        )
    return subdomain


def fields(ws: Workspace, project: Project, given: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the fields the client set; return them as stored."""
    out: dict[str, Any] = {}
    if "name" in given:
        out["name"] = require_text(given["name"], "name")
    if "subdomain" in given:
        out["subdomain"] = subdomain_of(given["subdomain"])
    if "script" in given:
        out["script"] = project_file(ws.paths.project_dir(project.id), given["script"], "script")
    if given.get("runtime_identifier"):
        out["runtime_identifier"] = require_runtime(given["runtime_identifier"])
    out.update(copy_set(given, NUMBERS, numbers=True))
    if "runtime_addon_identifiers" in given:
        refuse_addons(given["runtime_addon_identifiers"])
    out.update(copy_set(given, PLAIN))
    if "environment" in given:
        out["environment"] = given["environment"] or {}
    return out


def create(ws: Workspace, project: Project, given: Mapping[str, Any]) -> Application:
    """Store a new application and start it (CML starts on create)."""
    require_fields(given, REQUIRED)
    require_ready(project)
    blank = Application(id="")
    defaults = {key: getattr(blank, key) for key in SETTABLE if key not in REQUIRED}
    return ws.applications.create(project, {**defaults, **fields(ws, project, given)})


def update(ws: Workspace, project: Project, app: Application, given: Mapping[str, Any]) -> Application | None:
    """The application with the changes stored; ``None`` if it was deleted meanwhile."""
    return ws.applications.update(app.id, fields(ws, project, given))
