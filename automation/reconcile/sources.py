"""The DEV project's files: the spec's globs, resolved inside the repository."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from automation.errors import SpecError
from automation.spec import source_files

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
_SKIP_PARTS = {"__pycache__", ".git", ".cmlops", ".pytest_cache", ".ruff_cache"}


def application_files(spec: Any, project: str = "prd") -> dict[str, bytes]:
    """The scripts of the applications that run in ``project`` (PRD has no source of its own:
    apply uploads each PRD application's script there, and nothing else)."""
    root = Path(spec.repo_root).resolve()
    return {
        app.script: (root / app.script).read_bytes()
        for app in spec.applications.values()
        if app.project == project
    }


def collect_files(spec: Any) -> dict[str, bytes]:
    """Map project-relative POSIX paths to contents for every file the DEV source globs match.

    The globs are resolved by ``automation.spec.source_files``, exactly as ``cmlops validate`` checks
    them (a matched folder contributes the files under it; symlinks may not leave the repo), so a spec
    that validates never fails here with "matches no file".
    """
    root = Path(spec.repo_root).resolve()
    out: dict[str, bytes] = {}
    total = 0
    for rel in source_files(spec, root):
        if _SKIP_PARTS.intersection(PurePosixPath(rel).parts):
            continue
        data = (root / rel).read_bytes()
        total += len(data)
        out[rel] = data
    if total > MAX_UPLOAD_BYTES:
        raise SpecError(
            f"the DEV source files add up to {total} bytes (limit {MAX_UPLOAD_BYTES})",
            field="projects.dev.source.files",
            hint="use git_url for large repositories",
        )
    return out
