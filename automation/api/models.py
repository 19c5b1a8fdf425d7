"""Model endpoints: models, model builds and model deployments."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from automation.api.base import Resource, WaitEvent, exact, wait_for
from automation.api.types import Model, ModelBuild, ModelDeployment
from automation.errors import BuildFailed, DeploymentFailed

# Build and deployment statuses are lowercase free text, not enums.
BUILD_OK = {"built"}
BUILD_FAILED = {"build failed", "failed", "timedout"}
DEPLOY_OK = {"deployed"}
DEPLOY_FAILED = {"failed", "stopped"}
DEPLOY_ACTIVE = {"deployed", "deploying", "pending", "starting"}


class Models(Resource):
    def _base(self, project_id: str) -> str:
        return f"/api/v2/projects/{project_id}/models"

    def list(self, project_id: str, search_filter: dict[str, str] | None = None) -> Iterator[Model]:
        for item in self._pages(self._base(project_id), "models", {"search_filter": search_filter}):
            model = Model.model_validate(item)
            self.http.add_secret(model.access_key)
            yield model

    def find(self, project_id: str, name: str) -> Model | None:
        live = (m for m in self.list(project_id, search_filter={"name": name}) if not m.deletion_status)
        return exact(live, name)

    def get(self, project_id: str, model_id: str) -> Model:
        model = Model.model_validate(self.http.request("GET", f"{self._base(project_id)}/{model_id}"))
        self.http.add_secret(model.access_key)
        return model

    def create(
        self,
        project_id: str,
        *,
        name: str,
        description: str = "",
        registered_model_id: str | None = None,
        disable_authentication: bool = False,
    ) -> Model:
        body: dict[str, Any] = {
            "project_id": project_id,
            "name": name,
            "description": description,
            "disable_authentication": disable_authentication,
        }
        if registered_model_id:
            body["registered_model_id"] = registered_model_id
        model = Model.model_validate(self.http.request("POST", self._base(project_id), json_body=body))
        self.http.add_secret(model.access_key)
        return model

    def update(self, project_id: str, model_id: str, **fields: Any) -> Model:
        model = Model.model_validate(
            self.http.request("PATCH", f"{self._base(project_id)}/{model_id}", json_body=fields)
        )
        self.http.add_secret(model.access_key)
        return model

    def delete(self, project_id: str, model_id: str) -> None:
        self.http.request("DELETE", f"{self._base(project_id)}/{model_id}")

    # -- builds -------------------------------------------------------------------------------

    def list_builds(self, project_id: str, model_id: str) -> Iterator[ModelBuild]:
        for item in self._pages(f"{self._base(project_id)}/{model_id}/builds", "model_builds"):
            yield ModelBuild.model_validate(item)

    def get_build(self, project_id: str, model_id: str, build_id: str) -> ModelBuild:
        path = f"{self._base(project_id)}/{model_id}/builds/{build_id}"
        return ModelBuild.model_validate(self.http.request("GET", path))

    def create_build(
        self,
        project_id: str,
        model_id: str,
        *,
        registered_model_version_id: str,
        runtime_identifier: str,
        comment: str = "",
    ) -> ModelBuild:
        body = {
            "project_id": project_id,
            "model_id": model_id,
            "registered_model_version_id": registered_model_version_id,
            "runtime_identifier": runtime_identifier,
            "comment": comment,
        }
        path = f"{self._base(project_id)}/{model_id}/builds"
        return ModelBuild.model_validate(self.http.request("POST", path, json_body=body))

    def create_file_build(
        self,
        project_id: str,
        model_id: str,
        *,
        file_path: str,
        function_name: str,
        runtime_identifier: str,
        comment: str = "",
        kernel: str | None = None,
        runtime_addon_identifiers: list[str] | None = None,
    ) -> ModelBuild:
        """A build from a script and a function (AMP ``build_model`` tasks), not from the registry."""
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
        if runtime_addon_identifiers:
            body["runtime_addon_identifiers"] = list(runtime_addon_identifiers)
        path = f"{self._base(project_id)}/{model_id}/builds"
        return ModelBuild.model_validate(self.http.request("POST", path, json_body=body))

    def wait_build(
        self,
        project_id: str,
        model_id: str,
        build_id: str,
        *,
        timeout: float = 1800,
        on_progress: Callable[[WaitEvent], None] | None = None,
    ) -> ModelBuild:
        return wait_for(
            lambda: self.get_build(project_id, model_id, build_id),
            what=f"model build {build_id}",
            subject=build_id,
            status_of=lambda b: b.status.lower(),
            success=BUILD_OK,
            failure=BUILD_FAILED,
            timeout=timeout,
            clock=self.clock,
            interval=self.poll[0],
            max_interval=self.poll[1],
            failure_error=BuildFailed,
            failure_hint=lambda b: (
                (b.comment or "") + f" (build log: PRD project > Models > {model_id} > Builds > {build_id})"
            ),
            timeout_hint="raise timeouts.build in the spec",
            on_progress=on_progress,
        )

    # -- deployments --------------------------------------------------------------------------

    def list_deployments(self, project_id: str, model_id: str, build_id: str) -> Iterator[ModelDeployment]:
        path = f"{self._base(project_id)}/{model_id}/builds/{build_id}/deployments"
        for item in self._pages(path, "model_deployments"):
            yield ModelDeployment.model_validate(item)

    def get_deployment(
        self, project_id: str, model_id: str, build_id: str, deployment_id: str
    ) -> ModelDeployment:
        path = f"{self._base(project_id)}/{model_id}/builds/{build_id}/deployments/{deployment_id}"
        return ModelDeployment.model_validate(self.http.request("GET", path))

    def create_deployment(
        self,
        project_id: str,
        model_id: str,
        build_id: str,
        *,
        cpu: float,
        memory: float,
        replicas: int = 1,
        nvidia_gpus: int = 0,
        environment: dict[str, str] | None = None,
    ) -> ModelDeployment:
        body: dict[str, Any] = {
            "project_id": project_id,
            "model_id": model_id,
            "build_id": build_id,
            "cpu": cpu,
            "memory": memory,
            "replicas": replicas,
            "nvidia_gpus": nvidia_gpus,
            "environment": dict(environment or {}),
        }
        path = f"{self._base(project_id)}/{model_id}/builds/{build_id}/deployments"
        return ModelDeployment.model_validate(self.http.request("POST", path, json_body=body))

    def stop_deployment(
        self, project_id: str, model_id: str, build_id: str, deployment_id: str
    ) -> ModelDeployment:
        path = f"{self._base(project_id)}/{model_id}/builds/{build_id}/deployments/{deployment_id}:stop"
        return ModelDeployment.model_validate(self.http.request("POST", path, idempotent=True))

    def restart_deployment(
        self, project_id: str, model_id: str, build_id: str, deployment_id: str
    ) -> ModelDeployment:
        path = f"{self._base(project_id)}/{model_id}/builds/{build_id}/deployments/{deployment_id}:restart"
        return ModelDeployment.model_validate(self.http.request("POST", path, json_body={}, idempotent=True))

    def wait_deployment(
        self,
        project_id: str,
        model_id: str,
        build_id: str,
        deployment_id: str,
        *,
        timeout: float = 1200,
        on_progress: Callable[[WaitEvent], None] | None = None,
    ) -> ModelDeployment:
        return wait_for(
            lambda: self.get_deployment(project_id, model_id, build_id, deployment_id),
            what=f"model deployment {deployment_id}",
            subject=deployment_id,
            status_of=lambda d: d.status.lower(),
            success=DEPLOY_OK,
            failure=DEPLOY_FAILED,
            timeout=timeout,
            clock=self.clock,
            interval=self.poll[0],
            max_interval=self.poll[1],
            failure_error=DeploymentFailed,
            failure_hint=f"see the deployment's logs: PRD project > Models > {model_id} > Deployments",
            timeout_hint="raise timeouts.deployment in the spec",
            on_progress=on_progress,
        )
