"""Wire shapes (API v2 JSON) of the store's records and of MLflow's experiments, runs and registry:
the one place each resource is rendered.

Records (``state/records.py``) hold what is stored; what a client sees (RFC 3339 times, the
environment as a JSON string, CRNs, the creator, fields CML has and the local workspace does not
use, shown with their zero values) is decided here, by the routes' room.
"""

from __future__ import annotations

import math
from typing import Any

from automation.local.core.ids import crn
from automation.local.core.shapes import env_json, short_user, slugify, tags_list
from automation.local.core.timefmt import ms_rfc3339, rfc3339
from automation.local.domain.experiments import RUN_STATUS, ArtifactFile, Experiment, ExperimentRun, Page
from automation.local.domain.registry import ModelVersion, RegisteredModel
from automation.local.state.records import (
    Application,
    Build,
    Deployment,
    Engine,
    Job,
    JobRun,
    Model,
    Project,
    Workload,
)

PERMISSIONS = {
    "read": True,
    "write": True,
    "admin": True,
    "business_user": False,
    "operator": False,
    "inherit": False,
}
NO_RETRIES = {
    "retry_enabled": False,
    "max_retry": 0,
    "retry_delay": 0,
    "retry_for_script_failure": False,
    "retry_for_system_failure": False,
    "retry_for_timedout_runs": False,
    "retry_for_skipped_runs": False,
}
NO_RECIPIENTS = {
    "recipients": [],
    "success_recipients": "",
    "failure_recipients": "",
    "timeout_recipients": "",
    "stopped_recipients": "",
}
NO_RESOURCE_PROFILE = {"accelerator_label_id": "0", "resource_group_id": 0, "resource_profile_id": 0}


def short_project(project: Project) -> dict[str, str]:
    return {
        "public_identifier": project.id,
        "name": project.name,
        "default_project_engine": project.default_engine_type,
        "slug": project.slug or slugify(project.name),
    }


def render_project(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "owner": short_user(),
        "creator": short_user(),
        "description": project.description,
        "visibility": project.visibility,
        "default_engine_type": project.default_engine_type,
        "created_at": rfc3339(project.created_at),
        "updated_at": rfc3339(project.updated_at),
        "creation_status": project.creation_status,
        "permissions": dict(PERMISSIONS),
        "shared_memory_limit": project.shared_memory_limit,
        "environment": env_json(project.environment),
        "ephemeral_storage_request": project.ephemeral_storage_request,
        "ephemeral_storage_limit": project.ephemeral_storage_limit,
        "slug": project.slug,
    }


def _times(record: Any, *names: str) -> dict[str, str | None]:
    return {name: rfc3339(getattr(record, name)) for name in names}


def _engine(engine: Engine) -> dict[str, Any]:
    """The fields jobs, job runs and applications share: what their engines run with."""
    return {
        "id": engine.id,
        "creator": short_user(),
        "kernel": engine.kernel,
        "cpu": engine.cpu,
        "memory": engine.memory,
        "nvidia_gpu": engine.nvidia_gpu,
        "environment": env_json(engine.environment),
        "runtime_identifier": engine.runtime_identifier,
    }


def _workload(workload: Workload) -> dict[str, Any]:
    """The fields jobs and applications share."""
    return {
        **_engine(workload),
        **_times(workload, "created_at", "updated_at"),
        "name": workload.name,
        "script": workload.script,
        "runtime_addon_identifiers": list(workload.runtime_addon_identifiers),
        "run_as": workload.run_as,
        **NO_RESOURCE_PROFILE,
    }


def render_job(job: Job, project: Project) -> dict[str, Any]:
    return {
        **_workload(job),
        "engine_image_id": "0",
        "english_schedule": "",
        "arguments": job.arguments,
        "type": job.type,
        "parent_id": job.parent_id,
        "paused": job.paused,
        "schedule": job.schedule,
        "timeout": str(job.timeout),
        "timezone": job.timezone,
        "kill_on_timeout": job.kill_on_timeout,
        "project": short_project(project),
        "owner": short_user(),
        "attachments": list(job.attachments),
        **NO_RETRIES,
        **NO_RECIPIENTS,
    }


def render_run(run: JobRun) -> dict[str, Any]:
    return {
        **_engine(run),
        **_times(run, "created_at", "scheduling_at", "starting_at", "running_at", "finished_at"),
        "project_id": run.project_id,
        "job_id": run.job_id,
        "status": run.status,
        "arguments": run.arguments,
        "resource_group_id": 0,
    }


def render_model(model: Model, project: Project) -> dict[str, Any]:
    res = model.default_resources
    rep = model.default_replication_policy
    return {
        "id": model.id,
        "name": model.name,
        "description": model.description,
        "creator": short_user(),
        "access_key": model.access_key,
        "deletion_status": "",
        "created_at": rfc3339(model.created_at),
        "updated_at": rfc3339(model.updated_at),
        "crn": crn("model", model.id),
        "auth_enabled": model.auth_enabled,
        "project": short_project(project),
        "registered_model_id": model.registered_model_id,
        "visibility": model.visibility,
        "default_resources": {
            "cpu_millicores": str(res.get("cpu_millicores", 1000)),
            "memory_mb": str(res.get("memory_mb", 2048)),
            "nvidia_gpus": str(res.get("nvidia_gpus", 0)),
        },
        "default_replication_policy": {
            "num_replicas": str(rep.get("num_replicas", 1)),
            "type": rep.get("type", "fixed"),
        },
        "run_as": model.run_as,
        **NO_RESOURCE_PROFILE,
    }


def build_comment(build: Build) -> str:
    """A failed build's reason shows in its comment (API v2 has no other field for it)."""
    if build.status == "build failed" and build.failure_reason:
        return f"{build.comment} [build failed: {build.failure_reason}]".lstrip()
    return build.comment


def render_build(build: Build) -> dict[str, Any]:
    return {
        "id": build.id,
        "model_id": build.model_id,
        "creator": short_user(),
        "comment": build_comment(build),
        "file_path": build.file_path,
        "function_name": build.function_name,
        "engine_image": "",
        "kernel": build.kernel,
        "created_at": rfc3339(build.created_at),
        "updated_at": rfc3339(build.updated_at),
        "status": build.status,
        "deletion_status": "",
        "crn": crn("build", build.id),
        "built_at": rfc3339(build.built_at),
        "runtime_identifier": build.runtime_identifier,
        "runtime_addon_identifiers": list(build.runtime_addon_identifiers),
        "registered_model_version_id": build.registered_model_version_id,
        "model_root_dir": build.model_root_dir,
        "build_script_path": build.build_script_path,
    }


def render_deployment(dep: Deployment) -> dict[str, Any]:
    return {
        "project_id": dep.project_id,
        "model_id": dep.model_id,
        "build_id": dep.build_id,
        "id": dep.id,
        "cpu": dep.cpu,
        "memory": dep.memory,
        "nvidia_gpu": dep.nvidia_gpu,
        "environment": env_json(dep.environment),
        "created_at": rfc3339(dep.created_at),
        "updated_at": rfc3339(dep.updated_at),
        "stopped_at": rfc3339(dep.stopped_at),
        "crn": crn("deployment", dep.id),
        "deployer": short_user(),
        "status": dep.status,
        "replicas": dep.replicas,
        **NO_RESOURCE_PROFILE,
    }


def render_application(app: Application) -> dict[str, Any]:
    """The swagger's Application, with zero values for fields never set."""
    return {
        **_workload(app),
        **_times(app, "starting_at", "running_at", "stopped_at"),
        "description": app.description,
        "subdomain": app.subdomain,
        "status": app.status,
        "bypass_authentication": app.bypass_authentication,
        "cdv_app": app.cdv_app,
    }


# --- experiments, runs and the registry (MLflow's entities, typed by the domain) ------------------


def page_of(key: str, page: Page[Any], render: Any) -> dict[str, Any]:
    return {key: [render(item) for item in page.items], "next_page_token": page.next_page_token}


def json_number(value: float) -> float | str:
    """proto3 JSON spells non-finite doubles as strings (JSON itself cannot)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def render_metric(metric: Any) -> dict[str, Any]:
    return {
        "key": metric.key,
        "value": json_number(float(metric.value)),
        "timestamp": ms_rfc3339(metric.timestamp),
        "step": str(metric.step or 0),
    }


def render_metric_history(history: list[Any]) -> dict[str, Any]:
    return {"metrics": [render_metric(m) for m in history]}


def latest_metrics(run: Any) -> list[dict[str, Any]]:
    objs = getattr(run.data, "_metric_objs", None)
    if objs is None:  # older MLflow: values only
        return [
            {"key": k, "value": json_number(float(v)), "timestamp": None, "step": "0"}
            for k, v in sorted(run.data.metrics.items())
        ]
    return [render_metric(m) for m in sorted(objs, key=lambda m: m.key)]


def render_experiment(exp: Experiment) -> dict[str, Any]:
    e = exp.entity
    return {
        "id": exp.id,
        "project_id": exp.project_id,
        "name": e.name,
        "artifact_location": e.artifact_location or "",
        "created_at": ms_rfc3339(e.creation_time),
        "updated_at": ms_rfc3339(e.last_update_time),
        "tags": tags_list(e.tags),
        "lifecycle_stage": e.lifecycle_stage or "",
        "user": short_user(),
    }


def _file(item: ArtifactFile) -> dict[str, Any]:
    return {"path": item.path, "is_dir": item.is_dir, "file_size": str(item.file_size)}


def _dataset_inputs(run: Any) -> list[dict[str, Any]]:
    out = []
    for item in getattr(getattr(run, "inputs", None), "dataset_inputs", None) or []:
        ds = item.dataset
        out.append(
            {
                "tags": [{"key": t.key, "value": t.value} for t in item.tags or []],
                "dataset": {
                    "name": ds.name or "",
                    "digest": ds.digest or "",
                    "source_type": ds.source_type or "",
                    "source": ds.source or "",
                    "schema": ds.schema or "",
                    "profile": ds.profile or "",
                },
            }
        )
    return out


def render_experiment_run(run: ExperimentRun) -> dict[str, Any]:
    info, data = run.entity.info, run.entity.data
    return {
        "id": run.id,
        "name": info.run_name or "",
        "experiment_id": run.experiment_id,
        "user": short_user(),
        "status": RUN_STATUS.get(info.status, "EXPERIMENT_RUN_RUNNING"),
        "start_time": ms_rfc3339(info.start_time),
        "end_time": ms_rfc3339(info.end_time),
        "artifact_uri": info.artifact_uri or "",
        "data": {
            "metrics": latest_metrics(run.entity),
            "params": tags_list(data.params),
            "tags": tags_list(data.tags),
            "files": [_file(f) for f in run.files],
            "registered_model_metadata": [
                {
                    "model_path": r.model_path,
                    "model_name": r.model_name,
                    "model_id": r.model_id,
                    "model_version_id": r.model_version_id,
                    "version_number": r.version_number,
                    "run_id": r.run_id,
                    "created_at": ms_rfc3339(r.created_at),
                }
                for r in run.registered
            ],
        },
        "inputs": {"dataset_inputs": _dataset_inputs(run.entity)},
    }


def render_model_version(version: ModelVersion, workspace_url: str) -> dict[str, Any]:
    mv, run = version.entity, version.run
    mlflow_metadata = {
        "experiment_id": version.experiment_id,
        "run_id": version.run_id,
        "metrics": latest_metrics(run) if run else [],
        "params": tags_list(run.data.params) if run else [],
        "tags": tags_list(run.data.tags) if run else [],
    }
    return {
        "model_id": version.model_id,
        "model_version_id": version.id,
        "version_name": f"v{mv.version}",
        "number": int(mv.version),
        "notes": mv.description or "",
        "user": short_user(),
        "created_at": ms_rfc3339(mv.creation_timestamp),
        "updated_at": ms_rfc3339(mv.last_updated_timestamp),
        "status": version.status,
        "model_version_metadata": {
            "mlops_type": "MLFLOW",
            "tags": tags_list(mv.tags),
            "workspace_url": workspace_url,
            "project_id": version.project_id,
            "owner": short_user(),
            "mlflow_metadata": mlflow_metadata,
            "simple_metadata": {"git_url": "", "commit_id": "", "metrics": [], "params": [], "tags": []},
        },
        "tags": tags_list(mv.tags),
        "error_message": (mv.status_message or "") if version.status == "FAILED" else "",
    }


def render_registered_model(model: RegisteredModel, workspace_url: str) -> dict[str, Any]:
    """RegisteredModel; with ``model_versions`` (one page) when the model was read on its own."""
    rm = model.entity
    body: dict[str, Any] = {
        "model_id": model.id,
        "name": rm.name,
        "description": rm.description or "",
        "owner": short_user(),
        "permission": "Owner",
        "visibility": model.visibility,
        "created_at": ms_rfc3339(rm.creation_timestamp),
        "updated_at": ms_rfc3339(rm.last_updated_timestamp),
        "count": model.count,
        "next_page_token": model.next_page_token,
    }
    if model.versions is not None:
        body["model_versions"] = [render_model_version(v, workspace_url) for v in model.versions]
    return body
