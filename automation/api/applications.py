"""Applications (used by AMP launches)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from automation.api.base import Resource, WaitEvent, exact, update_body, wait_for
from automation.api.types import Application

APP_RUNNING = {"APPLICATION_RUNNING"}
APP_DOWN = {"APPLICATION_FAILED", "APPLICATION_STOPPED"}


class Applications(Resource):
    def list(self, project_id: str, search_filter: dict[str, str] | None = None) -> Iterator[Application]:
        path = f"/api/v2/projects/{project_id}/applications"
        for item in self._pages(path, "applications", {"search_filter": search_filter}):
            yield Application.model_validate(item)

    def find(self, project_id: str, name: str) -> Application | None:
        return exact(self.list(project_id, search_filter={"name": name}), name)

    def get(self, project_id: str, application_id: str) -> Application:
        path = f"/api/v2/projects/{project_id}/applications/{application_id}"
        return Application.model_validate(self.http.request("GET", path))

    def create(
        self,
        project_id: str,
        *,
        name: str,
        subdomain: str,
        script: str,
        runtime_identifier: str,
        cpu: float = 1,
        memory: float = 2,
        nvidia_gpu: int = 0,
        description: str = "",
        environment: dict[str, str] | None = None,
        bypass_authentication: bool = False,
        runtime_addon_identifiers: list[str] | None = None,
    ) -> Application:
        body: dict[str, Any] = {
            "project_id": project_id,
            "name": name,
            "subdomain": subdomain,
            "script": script,
            "runtime_identifier": runtime_identifier,
            "cpu": cpu,
            "memory": memory,
            "nvidia_gpu": nvidia_gpu,
            "description": description,
            "environment": dict(environment or {}),
            "bypass_authentication": bypass_authentication,
        }
        if runtime_addon_identifiers:
            body["runtime_addon_identifiers"] = list(runtime_addon_identifiers)
        path = f"/api/v2/projects/{project_id}/applications"
        return Application.model_validate(self.http.request("POST", path, json_body=body))

    def update(self, project_id: str, application_id: str, **fields: Any) -> Application:
        """PATCH an application (stored; ``restart`` applies it); ``environment`` goes as a JSON string."""
        path = f"/api/v2/projects/{project_id}/applications/{application_id}"
        return Application.model_validate(self.http.request("PATCH", path, json_body=update_body(fields)))

    def stop(self, project_id: str, application_id: str) -> Application:
        path = f"/api/v2/projects/{project_id}/applications/{application_id}:stop"
        return Application.model_validate(self.http.request("POST", path, idempotent=True))

    def restart(self, project_id: str, application_id: str) -> Application:
        path = f"/api/v2/projects/{project_id}/applications/{application_id}:restart"
        return Application.model_validate(self.http.request("POST", path, json_body={}, idempotent=True))

    def wait_running(
        self,
        project_id: str,
        application_id: str,
        *,
        timeout: float = 600,
        on_progress: Callable[[WaitEvent], None] | None = None,
    ) -> Application:
        """Wait until the application runs; WorkloadFailed when it stops or fails instead."""
        return wait_for(
            lambda: self.get(project_id, application_id),
            what=f"application {application_id}",
            subject=application_id,
            status_of=lambda a: a.status,
            success=APP_RUNNING,
            failure=APP_DOWN,
            timeout=timeout,
            clock=self.clock,
            interval=self.poll[0],
            max_interval=self.poll[1],
            failure_hint="see the application's logs: project > Applications",
            on_progress=on_progress,
        )

    def delete(self, project_id: str, application_id: str) -> None:
        self.http.request("DELETE", f"/api/v2/projects/{project_id}/applications/{application_id}")
