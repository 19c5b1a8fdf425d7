"""The model registry: /api/v2/registry/models[/{model_id}[/versions/{version_id}]] (see registry.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from automation.local.api.common import params, project_or_404, workspace
from automation.local.api.render import page_of, render_model_version, render_registered_model
from automation.local.core.shapes import require_text
from automation.local.domain import registry

router = APIRouter(prefix="/api/v2")


class TagIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key: str = ""
    value: str = ""


class CreateRegisteredModelRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    project_id: str = ""
    experiment_id: str = ""
    run_id: str | None = None
    model_path: str | None = None
    model_name: str | None = None
    tags: list[TagIn] | None = None
    description: str | None = None
    notes: str | None = None
    visibility: str | None = None


class UpdateRegisteredModelRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model_id: str | None = None
    description: str | None = None
    visibility: str | None = None


class UpdateRegisteredModelVersionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model_id: str | None = None
    model_version_id: str | None = None
    notes: str | None = None
    tags: list[TagIn] | None = None


def _tags(tags: list[TagIn] | None) -> list[dict[str, Any]] | None:
    return None if tags is None else [t.model_dump() for t in tags]


@router.get("/registry/models")
def list_registered_models(request: Request) -> dict[str, Any]:
    ws = workspace(request)
    return page_of(
        "models",
        registry.list_models(ws.mlflow, params(request)),
        lambda m: render_registered_model(m, ws.url),
    )


@router.post("/registry/models")
def create_registered_model(body: CreateRegisteredModelRequest, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    if body.project_id:
        project_or_404(ws, body.project_id)
    model = registry.create_version(
        ws.mlflow,
        project_id=body.project_id,
        experiment_id=body.experiment_id,
        run_id=require_text(body.run_id, "run_id"),
        model_path=require_text(body.model_path, "model_path"),
        model_name=require_text(body.model_name, "model_name"),
        tags=_tags(body.tags),
        description=body.description,
        notes=body.notes,
        visibility=body.visibility,
    )
    return render_registered_model(model, ws.url)


@router.patch("/registry/models")
def update_registered_model(body: UpdateRegisteredModelRequest, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    model = registry.update_model(
        ws.mlflow,
        require_text(body.model_id, "model_id"),
        description=body.description,
        visibility=body.visibility,
    )
    return render_registered_model(model, ws.url)


@router.get("/registry/models/{model_id}")
def get_registered_model(model_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    return render_registered_model(registry.get_model(ws.mlflow, model_id, params(request)), ws.url)


@router.patch("/registry/models/{model_id}")
def update_registered_model_version(
    model_id: str, body: UpdateRegisteredModelVersionRequest, request: Request
) -> dict[str, Any]:
    ws = workspace(request)
    version = registry.update_version(
        ws.mlflow,
        model_id,
        require_text(body.model_version_id, "model_version_id"),
        notes=body.notes,
        tags=_tags(body.tags),
    )
    return render_model_version(version, ws.url)


@router.delete("/registry/models/{model_id}")
def delete_registered_model(model_id: str, request: Request) -> dict[str, Any]:
    registry.delete_model(workspace(request).mlflow, model_id)
    return {}


@router.get("/registry/models/{model_id}/versions/{version_id}")
def get_registered_model_version(model_id: str, version_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    return render_model_version(registry.get_version(ws.mlflow, model_id, version_id), ws.url)


@router.delete("/registry/models/{model_id}/versions/{version_id}")
def delete_registered_model_version(model_id: str, version_id: str, request: Request) -> dict[str, Any]:
    registry.delete_version(workspace(request).mlflow, model_id, version_id)
    return {}
