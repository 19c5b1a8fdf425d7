"""The model registry: registered models and their versions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from automation.api.base import Resource, WaitEvent, exact, wait_for
from automation.api.types import RegisteredModel, RegisteredModelVersion
from automation.errors import (
    ApiError,
    CmlopsError,
    NotFound,
    NotImplementedByServer,
    RegistryUnavailable,
    WorkloadFailed,
)

# CML does not document version statuses (the UI shows "Ready" / "Failed"): words are matched
# case-insensitively; any other status is shown and waited on until the registry timeout.
VERSION_READY = frozenset({"ready", "registered", "model_version_status_ready", "success", "succeeded"})
VERSION_FAILED = frozenset(
    {
        "failed",
        "failure",
        "error",
        "failed_registration",
        "registration_failed",
        "model_version_status_failed",
    }
)
_ABSENT_WORDS = ("not enabled", "not deployed", "not installed", "not available", "disabled", "unavailable")
REGISTRY_HINT = (
    "this workspace has no Model Registry: ask the workspace admin to enable it "
    "(Cloudera AI > Model Registry) and re-run; nothing was written"
)


def registry_absent(exc: ApiError) -> bool:
    """Does this answer to ``GET /api/v2/registry/models`` say the registry component is missing?

    A list route answering 404 or 501 cannot mean "no such model"; another 4xx/5xx counts only
    when its message says the registry is not enabled/available.
    """
    if isinstance(exc, NotFound | NotImplementedByServer):
        return True
    text = (exc.server_message or "").lower()
    return "registry" in text and any(word in text for word in _ABSENT_WORDS)


class Registry(Resource):
    def list(self, search_filter: dict[str, str] | None = None) -> Iterator[RegisteredModel]:
        """Registered models; raises RegistryUnavailable (exit 2) when the workspace has no registry."""
        pages = self._pages("/api/v2/registry/models", "models", {"search_filter": search_filter})
        while True:
            try:
                item = next(pages)
            except StopIteration:
                return
            except ApiError as exc:
                if registry_absent(exc):
                    raise RegistryUnavailable(
                        f"the workspace has no Model Registry: GET /api/v2/registry/models answered "
                        f"HTTP {exc.status}" + (f" ({exc.server_message})" if exc.server_message else ""),
                        hint=REGISTRY_HINT,
                    ) from None
                raise
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

    def version_of_run(self, registered: RegisteredModel, run_id: str) -> RegisteredModelVersion:
        """The version a registration of ``run_id`` made: from the answer, else the newest version
        whose source run matches (re-read); a clear error when none does."""
        matching = [v for v in registered.model_versions if v.run_id == run_id]
        if not matching:
            matching = [v for v in self.versions(registered.model_id) if v.run_id == run_id]
        if not matching:
            raise CmlopsError(
                f"registered MLflow run {run_id} as {registered.name or registered.model_id!r}, "
                "but no version of that model names the run",
                hint="look at the model's versions on the workspace's Model Registry page; "
                "re-running apply registers the run again if no version of it exists",
            )
        return max(matching, key=lambda v: int(v.number or 0))

    def update(self, model_id: str, *, description: str) -> RegisteredModel:
        """UpdateRegisteredModel: ``PATCH /api/v2/registry/models`` (the model id in the body)."""
        body = {"model_id": model_id, "description": description}
        return RegisteredModel.model_validate(
            self.http.request("PATCH", "/api/v2/registry/models", json_body=body)
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
            timeout_hint="raise timeouts.registry in the spec; if the status above is how your "
            "workspace spells 'ready', please report it",
            on_progress=on_progress,
            fold_case=True,
        )
