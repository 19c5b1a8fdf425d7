"""The ids and states a user wants after apply, bootstrap and status (no secrets)."""

from __future__ import annotations

from typing import Any

from automation.reconcile.observe import ModelObserved, Observed


def _get(obj: Any, attr: str = "id") -> Any:
    return getattr(obj, attr, None) if obj is not None else None


def model_summary(obs: Observed, name: str) -> dict[str, Any]:
    """One model's ids and states: its job and run, MLflow run, version, PRD model, build, deployment."""
    m = obs.models[name]
    run = m.last_success_run
    return {
        "job_id": _get(obs.jobs.get(m.job_name)),
        "job_run_id": _get(run),
        "job_run_status": _get(run, "status"),
        "experiment_id": _get(m.experiment),
        "mlflow_run_id": _get(m.mlflow_run),
        "metrics": m.mlflow_run.metrics if m.mlflow_run else {},
        "registered_model_id": _get(m.registered, "model_id"),
        "model_version_id": _get(m.version, "model_version_id"),
        "model_version": _get(m.version, "number"),
        "model_id": _get(m.model),
        "build_id": _get(m.build),
        "build_status": _get(m.build, "status"),
        "deployment_id": _get(m.deployment),
        "deployment_status": _get(m.deployment, "status"),
    }


def summary_ids(obs: Observed) -> dict[str, Any]:
    """The ids a user wants after apply/bootstrap/status (no secrets): the first model's at the top
    level (as with one model), every model's under ``models``, jobs and applications by name."""
    models = {name: model_summary(obs, name) for name in obs.models}
    first = next(iter(models.values()), model_summary(Observed(models={"": ModelObserved()}), ""))
    return {
        "dev_project_id": _get(obs.dev),
        "prd_project_id": _get(obs.prd),
        "runtime_identifier": obs.runtime_identifier,
        **first,
        "models": models,
        "jobs": {name: _get(job) for name, job in obs.jobs.items()},
        "applications": {
            name: {"id": _get(app), "status": _get(app, "status"), "subdomain": _get(app, "subdomain")}
            for name, app in obs.applications.items()
        },
    }
