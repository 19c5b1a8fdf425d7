"""Projects and project files."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from automation.api.base import Resource, WaitEvent, exact, update_body, wait_for
from automation.api.types import FileInfo, Project
from automation.errors import NotFound, WorkloadFailed

PROJECT_OK = {"success", "SUCCESS", "created", ""}
PROJECT_FAILED = {"failure", "failed", "FAILURE", "error"}


class Projects(Resource):
    def list(
        self,
        search_filter: dict[str, str] | None = None,
        sort: str | None = None,
        include_public_projects: bool | None = None,
    ) -> Iterator[Project]:
        params = {
            "search_filter": search_filter,
            "sort": sort,
            "include_public_projects": include_public_projects,
        }
        for item in self._pages("/api/v2/projects", "projects", params):
            yield Project.model_validate(item)

    def find(self, name: str) -> Project | None:
        return exact(self.list(search_filter={"name": name}), name)

    def get(self, project_id: str) -> Project:
        return Project.model_validate(self.http.request("GET", f"/api/v2/projects/{project_id}"))

    def create(
        self,
        name: str,
        *,
        description: str = "",
        template: str | None = None,
        git_url: str | None = None,
        git_ref: str | None = None,
        visibility: str = "private",
        environment: dict[str, str] | None = None,
        default_project_engine_type: str = "ml_runtime",
    ) -> Project:
        body: dict[str, Any] = {
            "name": name,
            "description": description,
            "visibility": visibility,
            "default_project_engine_type": default_project_engine_type,
            "template": template or ("git" if git_url else "blank"),
        }
        if git_url:
            body["git_url"] = git_url
            if git_ref:
                body["git_ref"] = git_ref
        if environment:
            body["environment"] = dict(environment)
        return Project.model_validate(self.http.request("POST", "/api/v2/projects", json_body=body))

    def update(self, project_id: str, **fields: Any) -> Project:
        """PATCH a project; ``environment`` may be given as a map (sent as the JSON string CML wants)."""
        return Project.model_validate(
            self.http.request("PATCH", f"/api/v2/projects/{project_id}", json_body=update_body(fields))
        )

    def delete(self, project_id: str) -> None:
        self.http.request("DELETE", f"/api/v2/projects/{project_id}")

    def wait_created(
        self, project_id: str, *, timeout: float = 600, on_progress: Callable[[WaitEvent], None] | None = None
    ) -> Project:
        """Project creation (from git especially) is asynchronous: wait for creation_status."""
        return wait_for(
            lambda: self.get(project_id),
            what=f"project {project_id} creation",
            status_of=lambda p: p.creation_status or "success",
            success=PROJECT_OK | {"success"},
            failure=PROJECT_FAILED,
            timeout=timeout,
            clock=self.clock,
            interval=self.poll[0],
            max_interval=self.poll[1],
            failure_error=WorkloadFailed,
            failure_hint="check the git URL and credentials in the project's settings page",
            timeout_hint="raise timeouts.project in the spec",
            on_progress=on_progress,
        )

    # -- files --------------------------------------------------------------------------------

    def list_files(self, project_id: str, path: str = "") -> list[FileInfo]:
        """One directory level (CML does not paginate this call)."""
        body = self.http.request(
            "GET", f"/api/v2/projects/{project_id}/files/{quote(path.strip('/'), safe='')}"
        )
        return [FileInfo.model_validate(f) for f in body.get("files") or []]

    def file_sizes(self, project_id: str, paths: Iterable[str]) -> dict[str, int]:
        """Sizes of those of ``paths`` present in the project: one listing per folder they sit in."""
        wanted = set(paths)
        present: dict[str, int] = {}
        for folder in sorted({str(PurePosixPath(p).parent) for p in wanted}):
            rel = "" if folder == "." else folder
            try:
                entries = self.list_files(project_id, rel)
            except NotFound:
                continue
            for entry in entries:
                if not entry.is_dir:
                    name = PurePosixPath(entry.path).name
                    present[f"{rel}/{name}" if rel else name] = entry.file_size
        return {path: size for path, size in present.items() if path in wanted}

    def upload_file(self, project_id: str, dest_path: str, content: bytes) -> None:
        """Upload one file; the multipart field name is the destination path. CML never overwrites."""
        name = PurePosixPath(dest_path).name
        self.http.request(
            "POST",
            f"/api/v2/projects/{project_id}/files",
            files={dest_path: (name, content, "application/octet-stream")},
            idempotent=False,
        )

    def remove_upload_twins(self, project_id: str, sizes: dict[str, int]) -> int:
        """Delete the ``name(N).ext`` copies that CML made of ``sizes``' files (path -> size) when
        two uploads of the same path crossed (two applies at once): CML never overwrites, so the
        second upload lands beside the first. Only copies of the same size are removed; returns how
        many. One listing per folder."""
        removed = 0
        by_folder: dict[str, dict[str, int]] = {}
        for path, size in sizes.items():
            pure = PurePosixPath(path)
            by_folder.setdefault(str(pure.parent), {})[pure.name] = size
        for folder, names in sorted(by_folder.items()):
            rel = "" if folder == "." else folder
            try:
                entries = self.list_files(project_id, rel)
            except NotFound:
                continue
            for entry in entries:
                name = PurePosixPath(entry.path).name
                original = _twin_of(name)
                if entry.is_dir or original not in names or entry.file_size != names[original]:
                    continue
                try:
                    self.delete_file(project_id, f"{rel}/{name}" if rel else name)
                except NotFound:
                    continue  # the other apply removed it first
                removed += 1
        return removed

    def delete_file(self, project_id: str, path: str) -> None:
        self.http.request("DELETE", f"/api/v2/projects/{project_id}/files/{quote(path.strip('/'), safe='')}")


_TWIN = re.compile(r"^(?P<stem>.+)\((?P<n>[1-9][0-9]*)\)(?P<suffix>\.[^.]*)?$")


def _twin_of(name: str) -> str | None:
    """``wine(1).py`` -> ``wine.py``; None for a name that is not an upload twin."""
    found = _TWIN.match(name)
    return found.group("stem") + (found.group("suffix") or "") if found else None
