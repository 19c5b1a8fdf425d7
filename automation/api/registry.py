"""The model registry: registered models and their versions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from automation.api.base import Resource, WaitEvent, exact, wait_for
from automation.api.types import RegisteredModel, RegisteredModelVersion
from automation.errors import WorkloadFailed

# CML does not document version statuses; accept the spellings seen in MLflow and CML.
VERSION_READY = {"READY", "REGISTERED", "MODEL_VERSION_STATUS_READY", "ready", "registered"}
VERSION_FAILED = {"FAILED", "FAILED_REGISTRATION", "ERROR", "failed", "error", "failed_registration"}


class Registry(Resource):
    def list(self, search_filter: dict[str, str] | None = None) -> Iterator[RegisteredModel]:
        for item in self._pages("/api/v2/registry/models", "models", {"search_filter": search_filter}):
            yield RegisteredModel.model_validate(item)

    def find(self, name: str) -> RegisteredModel | None:
        return exact(self.list(search_filter={"model_name": name}), name)

    def get(self, model_id: str) -> RegisteredModel:
        return RegisteredModel.model_validate(self.http.request("GET", f"/api/v2/registry/models/{model_id}"))

    def versions(self, model_id: str) -> list[RegisteredModelVersion]:
        """All versions of a registered model, following the versions' page token."""
        out: list[RegisteredModelVersion] = []
        params: dict[str, Any] = {"page_size": 100}
        seen: set[str] = set()
        while True:
            body = self.http.request("GET", f"/api/v2/registry/models/{model_id}", params=params)
            out.extend(RegisteredModelVersion.model_validate(v) for v in body.get("model_versions") or [])
            token = body.get("next_page_token") or ""
            if not token or token in seen:
                return out
            seen.add(token)
            params["page_token"] = token

    def get_version(self, model_id: str, version_id: str) -> RegisteredModelVersion:
        path = f"/api/v2/registry/models/{model_id}/versions/{version_id}"
        return RegisteredModelVersion.model_validate(self.http.request("GET", path))

    def register(
        self,
        *,
        project_id: str,
        experiment_id: str,
        run_id: str,
        model_path: str,
        model_name: str,
        description: str = "",
        notes: str = "",
        tags: dict[str, str] | None = None,
        visibility: str = "PRIVATE",
    ) -> RegisteredModel:
        """Register a run's logged model; an existing name gets a new version."""
        body: dict[str, Any] = {
            "project_id": project_id,
            "experiment_id": experiment_id,
            "run_id": run_id,
            "model_path": model_path,
            "model_name": model_name,
            "visibility": visibility,
        }
        if description:
            body["description"] = description
        if notes:
            body["notes"] = notes
        if tags:
            body["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        return RegisteredModel.model_validate(
            self.http.request("POST", "/api/v2/registry/models", json_body=body)
        )

    def update_version(
        self, model_id: str, version_id: str, *, notes: str | None = None, tags: dict[str, str] | None = None
    ) -> RegisteredModelVersion:
        body: dict[str, Any] = {"model_id": model_id, "model_version_id": version_id}
        if notes is not None:
            body["notes"] = notes
        if tags is not None:
            body["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        path = f"/api/v2/registry/models/{model_id}"
        return RegisteredModelVersion.model_validate(self.http.request("PATCH", path, json_body=body))

    def delete(self, model_id: str) -> None:
        self.http.request("DELETE", f"/api/v2/registry/models/{model_id}")

    def wait_version(
        self,
        model_id: str,
        version_id: str,
        *,
        timeout: float = 600,
        on_progress: Callable[[WaitEvent], None] | None = None,
    ) -> RegisteredModelVersion:
        def status(v: RegisteredModelVersion) -> str:
            return "FAILED" if v.error_message else (v.status or "READY")

        return wait_for(
            lambda: self.get_version(model_id, version_id),
            what=f"registered model version {version_id}",
            status_of=status,
            success=VERSION_READY,
            failure=VERSION_FAILED,
            timeout=timeout,
            clock=self.clock,
            interval=self.poll[0],
            max_interval=self.poll[1],
            failure_error=WorkloadFailed,
            failure_hint=lambda v: v.error_message or "see the Model Registry page of the workspace",
            timeout_hint="raise timeouts.registry in the spec",
            on_progress=on_progress,
        )
