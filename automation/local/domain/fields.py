"""Field rules shared by the workloads' resources (jobs, applications, model builds).

Each takes plain values (what the client sent) and raises a 400 (INVALID_ARGUMENT or
FAILED_PRECONDITION) naming the field; routes parse requests, these decide what is allowed.
``given`` maps are the fields the client set, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from automation.local.core.files import resolve_inside
from automation.local.core.problems import bad_request, failed_precondition
from automation.local.core.shapes import require_text
from automation.local.state.records import Project
from automation.local.workloads.runtimes import is_known, why_unknown


def non_negative(value: float | int | None, field: str) -> None:
    if value is not None and value < 0:
        raise bad_request(f"{field} must not be negative, got {value}")


def require_fields(given: Mapping[str, Any], names: Iterable[str]) -> None:
    """A create request must set these fields (400 naming the first one missing)."""
    for name in names:
        if name not in given:
            raise bad_request(f"{name} is required")


def require_ready(project: Project) -> None:
    """Workloads start only in a project whose files are there (a git clone may still be running)."""
    if not project.ready:
        raise failed_precondition(
            f"project {project.id!r} is not ready (creation_status {project.creation_status!r})"
        )


def require_runtime(identifier: str | None) -> str:
    """``runtime_identifier`` must name a runtime of the catalogue (GET /api/v2/runtimes)."""
    if not is_known(identifier):
        raise bad_request(why_unknown(identifier or ""))
    return str(identifier)


def refuse_addons(identifiers: Sequence[str] | None) -> None:
    """400 for any requested add-on: none exists locally (GET /api/v2/runtimeaddons lists none)."""
    if identifiers:
        raise bad_request(
            f"runtime_addon_identifiers {list(identifiers)!r}: runtime add-ons are not available in the "
            "local workspace (Spark is not available locally); run Spark workloads on a CML workspace"
        )


def project_file(root: Path, value: str | None, field: str) -> str:
    """A required path to a file inside the project folder (no escaping it, not the folder itself)."""
    path = require_text(value, field)
    resolve_inside(root, path, field=field, allow_root=False)
    return path


def copy_set(given: Mapping[str, Any], keys: Iterable[str], *, numbers: bool = False) -> dict[str, Any]:
    """The ``keys`` the client set to a value (``null`` leaves a field as it is); numbers must be >= 0."""
    out: dict[str, Any] = {}
    for key in keys:
        value = given.get(key)
        if value is not None:
            if numbers:
                non_negative(value, key)
            out[key] = value
    return out
