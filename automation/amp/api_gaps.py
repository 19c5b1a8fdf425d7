"""Two API v2 calls AMP tasks need that ``automation.api`` does not offer yet.

- a model build from a file and a function (``build_model``: ``file_path`` + ``function_name``);
  ``Models.create_build`` only builds from a registered model version;
- ``POST .../applications/{id}:restart`` (re-launching an AMP whose application was stopped).

They go through the client's HTTP core exactly like the resource modules do (same paths, verbs and
field names as the API description). When ``automation.api`` grows these calls, this module goes.
"""

from __future__ import annotations

from typing import Any

from automation.api import CMLClient
from automation.api.types import Application, ModelBuild


def create_file_build(
    client: CMLClient,
    project_id: str,
    model_id: str,
    *,
    file_path: str,
    function_name: str,
    runtime_identifier: str,
    comment: str = "",
    kernel: str | None = None,
) -> ModelBuild:
    """``POST /api/v2/projects/{project_id}/models/{model_id}/builds`` for a file-based build."""
    body: dict[str, Any] = {
        "project_id": project_id,
        "model_id": model_id,
        "file_path": file_path,
        "function_name": function_name,
        "runtime_identifier": runtime_identifier,
        "comment": comment,
    }
    if kernel:
        body["kernel"] = kernel
    path = f"/api/v2/projects/{project_id}/models/{model_id}/builds"
    return ModelBuild.model_validate(client.http.request("POST", path, json_body=body))


def restart_application(client: CMLClient, project_id: str, application_id: str) -> Application:
    """``POST /api/v2/projects/{project_id}/applications/{application_id}:restart``."""
    path = f"/api/v2/projects/{project_id}/applications/{application_id}:restart"
    return Application.model_validate(client.http.request("POST", path, json_body={}, idempotent=True))
