"""Helpers every route module uses: the workspace from the request, lookups that 404 properly."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request

from automation.local.core.problems import bad_request, not_found

if TYPE_CHECKING:
    from automation.local.workspace import Workspace


def workspace(request: Request) -> Workspace:
    return request.app.state.workspace  # type: ignore[no-any-return]


def params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def project_or_404(ws: Workspace, project_id: str) -> dict[str, Any]:
    doc = ws.store.get("project", project_id)
    if doc is None:
        raise not_found("project", project_id)
    return doc


def job_or_404(ws: Workspace, project_id: str, job_id: str) -> dict[str, Any]:
    doc = ws.store.get("job", job_id)
    if doc is None or doc["project_id"] != project_id:
        raise not_found("job", job_id)
    return doc


def model_or_404(ws: Workspace, project_id: str, model_id: str) -> dict[str, Any]:
    doc = ws.store.get("model", model_id)
    if doc is None or doc["project_id"] != project_id:
        raise not_found("model", model_id)
    return doc


def build_or_404(ws: Workspace, model: dict[str, Any], build_id: str) -> dict[str, Any]:
    doc = ws.store.get("build", build_id)
    if doc is None or doc["model_id"] != model["id"]:
        raise not_found("model build", build_id)
    return doc


def deployment_or_404(ws: Workspace, build: dict[str, Any], deployment_id: str) -> dict[str, Any]:
    doc = ws.store.get("deployment", deployment_id)
    if doc is None or doc["build_id"] != build["id"]:
        raise not_found("model deployment", deployment_id)
    return doc


def non_negative(value: float | int | None, field: str) -> None:
    if value is not None and value < 0:
        raise bad_request(f"{field} must not be negative, got {value}")
