"""Experiments, experiment runs and metric histories, read from MLflow (see experiments.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from automation.local.api.common import params, project_or_404, workspace
from automation.local.api.render import (
    page_of,
    render_experiment,
    render_experiment_run,
    render_metric_history,
)
from automation.local.domain import experiments

router = APIRouter(prefix="/api/v2")


@router.get("/experiments")
def list_all_experiments(request: Request) -> dict[str, Any]:
    page = experiments.list_experiments(workspace(request).mlflow, None, params(request))
    return page_of("experiments", page, render_experiment)


@router.get("/projects/{project_id}/experiments")
def list_experiments(project_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    return page_of(
        "experiments", experiments.list_experiments(ws.mlflow, project_id, params(request)), render_experiment
    )


@router.get("/projects/{project_id}/experiments/{experiment_id}")
def get_experiment(project_id: str, experiment_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    return render_experiment(experiments.get_experiment(ws.mlflow, project_id, experiment_id))


@router.get("/projects/{project_id}/experiments/{experiment_id}/runs")
def list_experiment_runs(project_id: str, experiment_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    page = experiments.list_runs(ws.mlflow, project_id, experiment_id, params(request))
    return page_of("experiment_runs", page, render_experiment_run)


@router.get("/projects/{project_id}/experiments/{experiment_id}/runs/{run_id}")
def get_experiment_run(project_id: str, experiment_id: str, run_id: str, request: Request) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    return render_experiment_run(experiments.get_run(ws.mlflow, project_id, experiment_id, run_id))


@router.get("/projects/{project_id}/experiments/{experiment_id}/runs/{run_id}/metrics/{metric_key:path}")
def get_experiment_run_metrics(
    project_id: str, experiment_id: str, run_id: str, metric_key: str, request: Request
) -> dict[str, Any]:
    ws = workspace(request)
    project_or_404(ws, project_id)
    return render_metric_history(
        experiments.metric_history(ws.mlflow, project_id, experiment_id, run_id, metric_key)
    )
