"""Jobs and job runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from automation.api.base import Resource, WaitEvent, exact, update_body, wait_for
from automation.api.types import Job, JobRun
from automation.errors import JobRunFailed

RUN_SUCCESS = {"ENGINE_SUCCEEDED"}
RUN_FAILURE = {"ENGINE_FAILED", "ENGINE_TIMEDOUT", "ENGINE_STOPPED", "ENGINE_SKIPPED"}
RUN_ACTIVE = {"ENGINE_SCHEDULING", "ENGINE_STARTING", "ENGINE_RUNNING", "ENGINE_STOPPING", "ENGINE_UNKNOWN"}


class Jobs(Resource):
    def list(self, project_id: str, search_filter: dict[str, str] | None = None) -> Iterator[Job]:
        path = f"/api/v2/projects/{project_id}/jobs"
        for item in self._pages(path, "jobs", {"search_filter": search_filter}):
            yield Job.model_validate(item)

    def find(self, project_id: str, name: str) -> Job | None:
        return exact(self.list(project_id, search_filter={"name": name}), name)

    def get(self, project_id: str, job_id: str) -> Job:
        return Job.model_validate(self.http.request("GET", f"/api/v2/projects/{project_id}/jobs/{job_id}"))

    def create(
        self,
        project_id: str,
        *,
        name: str,
        script: str,
        runtime_identifier: str,
        cpu: float = 1,
        memory: float = 1,
        nvidia_gpu: int = 0,
        arguments: str = "",
        environment: dict[str, str] | None = None,
        timeout: int | None = None,
        kill_on_timeout: bool = True,
        parent_id: str | None = None,
        schedule: str | None = None,
        timezone: str | None = None,
        runtime_addon_identifiers: list[str] | None = None,
    ) -> Job:
        body: dict[str, Any] = {
            "project_id": project_id,
            "name": name,
            "script": script,
            "runtime_identifier": runtime_identifier,
            "cpu": cpu,
            "memory": memory,
            "nvidia_gpu": nvidia_gpu,
            "arguments": arguments,
            "environment": dict(environment or {}),
            "kill_on_timeout": kill_on_timeout,
        }
        if timeout:
            body["timeout"] = int(timeout)
        if parent_id:
            body["parent_id"] = parent_id
        if schedule:
            body["schedule"] = schedule
            if timezone:
                body["timezone"] = timezone
        if runtime_addon_identifiers:
            body["runtime_addon_identifiers"] = list(runtime_addon_identifiers)
        return Job.model_validate(
            self.http.request("POST", f"/api/v2/projects/{project_id}/jobs", json_body=body)
        )

    def update(self, project_id: str, job_id: str, **fields: Any) -> Job:
        """PATCH a job; ``environment`` (a map) and ``timeout`` are sent in the Job message's types."""
        path = f"/api/v2/projects/{project_id}/jobs/{job_id}"
        return Job.model_validate(self.http.request("PATCH", path, json_body=update_body(fields)))

    def delete(self, project_id: str, job_id: str) -> None:
        self.http.request("DELETE", f"/api/v2/projects/{project_id}/jobs/{job_id}")

    # -- runs ---------------------------------------------------------------------------------

    def list_runs(
        self, project_id: str, job_id: str, *, sort: str | None = "-created_at", limit: int | None = None
    ) -> Iterator[JobRun]:
        path = f"/api/v2/projects/{project_id}/jobs/{job_id}/runs"
        page = min(limit, 100) if limit else 100
        for item in self._pages(path, "job_runs", {"sort": sort}, page_size=page, limit=limit):
            yield JobRun.model_validate(item)

    def start_run(
        self,
        project_id: str,
        job_id: str,
        *,
        environment: dict[str, str] | None = None,
        arguments: str | None = None,
    ) -> JobRun:
        body: dict[str, Any] = {"project_id": project_id, "job_id": job_id}
        if environment:
            body["environment"] = dict(environment)
        if arguments:
            body["arguments"] = arguments
        path = f"/api/v2/projects/{project_id}/jobs/{job_id}/runs"
        return JobRun.model_validate(self.http.request("POST", path, json_body=body))

    def get_run(self, project_id: str, job_id: str, run_id: str) -> JobRun:
        path = f"/api/v2/projects/{project_id}/jobs/{job_id}/runs/{run_id}"
        return JobRun.model_validate(self.http.request("GET", path))

    def stop_run(self, project_id: str, job_id: str, run_id: str) -> JobRun:
        path = f"/api/v2/projects/{project_id}/jobs/{job_id}/runs/{run_id}:stop"
        return JobRun.model_validate(self.http.request("POST", path, idempotent=True))

    def wait_run(
        self,
        project_id: str,
        job_id: str,
        run_id: str,
        *,
        timeout: float = 1800,
        on_progress: Callable[[WaitEvent], None] | None = None,
    ) -> JobRun:
        try:
            return self._wait_run(project_id, job_id, run_id, timeout=timeout, on_progress=on_progress)
        except JobRunFailed as exc:
            exc.run_id = run_id  # lets the CLI show the local workspace's log of this run
            raise

    def _wait_run(
        self,
        project_id: str,
        job_id: str,
        run_id: str,
        *,
        timeout: float,
        on_progress: Callable[[WaitEvent], None] | None,
    ) -> JobRun:
        return wait_for(
            lambda: self.get_run(project_id, job_id, run_id),
            what=f"job run {run_id}",
            subject=run_id,
            status_of=lambda r: r.status,
            success=RUN_SUCCESS,
            failure=RUN_FAILURE,
            timeout=timeout,
            clock=self.clock,
            interval=self.poll[0],
            max_interval=self.poll[1],
            failure_error=JobRunFailed,
            failure_hint=f"read its log in the workspace: project {project_id} > Jobs > {job_id} > run {run_id} "
            "(local workspace: `cmlops local logs " + run_id + "`)",
            timeout_hint="raise timeouts.job_run (or the job's timeout) in the spec",
            on_progress=on_progress,
        )
