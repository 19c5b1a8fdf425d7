"""Experiments, experiment runs and metrics (the project's Experiments tab)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from automation.api.base import Resource, exact
from automation.api.types import Experiment, ExperimentRun


class Experiments(Resource):
    def list(self, project_id: str, search_filter: dict[str, str] | None = None) -> Iterator[Experiment]:
        path = f"/api/v2/projects/{project_id}/experiments"
        for item in self._pages(path, "experiments", {"search_filter": search_filter}):
            yield Experiment.model_validate(item)

    def find(self, project_id: str, name: str) -> Experiment | None:
        return exact(self.list(project_id, search_filter={"name": name}), name)

    def get(self, project_id: str, experiment_id: str) -> Experiment:
        path = f"/api/v2/projects/{project_id}/experiments/{experiment_id}"
        return Experiment.model_validate(self.http.request("GET", path))

    def list_runs(
        self,
        project_id: str,
        experiment_id: str,
        *,
        sort: str | None = "-start_time",
        search_filter: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[ExperimentRun]:
        path = f"/api/v2/projects/{project_id}/experiments/{experiment_id}/runs"
        page = min(limit, 100) if limit else 100
        params = {"sort": sort, "search_filter": search_filter}
        for item in self._pages(path, "experiment_runs", params, page_size=page, limit=limit):
            yield ExperimentRun.model_validate(item)

    def get_run(self, project_id: str, experiment_id: str, run_id: str) -> ExperimentRun:
        path = f"/api/v2/projects/{project_id}/experiments/{experiment_id}/runs/{run_id}"
        return ExperimentRun.model_validate(self.http.request("GET", path))

    def metric_history(
        self, project_id: str, experiment_id: str, run_id: str, metric_key: str
    ) -> list[dict[str, Any]]:
        path = f"/api/v2/projects/{project_id}/experiments/{experiment_id}/runs/{run_id}/metrics/{metric_key}"
        return list(self.http.request("GET", path).get("metrics") or [])
