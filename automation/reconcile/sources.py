"""The DEV project's files: the spec's globs, resolved inside the repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from automation.errors import SpecError

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
_SKIP_PARTS = {"__pycache__", ".git", ".cmlops", ".pytest_cache", ".ruff_cache"}


def collect_files(spec: Any) -> dict[str, bytes]:
    """Map project-relative POSIX paths to contents for every file the DEV source globs match."""
    source = spec.projects.dev.source
    if source is None or not source.files:
        return {}
    root = Path(spec.repo_root).resolve()
    out: dict[str, bytes] = {}
    total = 0
    for pattern in source.files:
        matched = False
        for path in sorted(root.glob(pattern)):
            if not path.is_file() or _SKIP_PARTS.intersection(path.relative_to(root).parts):
                continue
            resolved = path.resolve()
            if root not in resolved.parents:
                raise SpecError(
                    f"{pattern!r} matches {path}, which is outside the repository",
                    field="projects.dev.source.files",
                )
            rel = resolved.relative_to(root).as_posix()
            data = resolved.read_bytes()
            total += len(data)
            out[rel] = data
            matched = True
        if not matched:
            raise SpecError(
                f"{pattern!r} matches no file under {root}",
                field="projects.dev.source.files",
                hint="fix the glob, or remove it",
            )
    if total > MAX_UPLOAD_BYTES:
        raise SpecError(
            f"the DEV source files add up to {total} bytes (limit {MAX_UPLOAD_BYTES})",
            field="projects.dev.source.files",
            hint="use git_url for large repositories",
        )
    return out
