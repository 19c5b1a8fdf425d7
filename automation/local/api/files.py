"""Project files: upload (multipart, field name = destination path), one-level listing, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from automation.local.api.common import project_or_404, workspace
from automation.local.core.files import delete_path, list_files, parse_multipart, store_upload
from automation.local.core.problems import bad_request

router = APIRouter(prefix="/api/v2")


@router.post("/projects/{project_id}/files")
async def upload_files(project_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    root = ws.paths.project_dir(project_id)
    parts = parse_multipart(request.headers.get("content-type", ""), await request.body())
    for name, filename, content in parts:
        destination = name or filename
        if not destination:
            raise bad_request("each upload part needs a form field name: the destination path in the project")
        if destination.endswith("/") and filename:
            destination += filename
        stored = store_upload(root, destination, content)
        ws.log.info("project %s: uploaded %s", project_id, stored.relative_to(root))
    return {}


@router.get("/projects/{project_id}/files")
def list_root(project_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    return list_files(ws.paths.project_dir(project_id), "")


@router.get("/projects/{project_id}/files/{path:path}")
def list_path(project_id: str, path: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    return list_files(ws.paths.project_dir(project_id), path)


@router.delete("/projects/{project_id}/files/{path:path}")
def delete_file(project_id: str, path: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    delete_path(ws.paths.project_dir(project_id), path)
    return {}
