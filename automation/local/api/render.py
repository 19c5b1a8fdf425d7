"""Wire shapes (API v2 JSON) of the store's records: the one place each resource is rendered.

Records (``state/records.py``) hold what is stored; what a client sees (RFC 3339 times, the
environment as a JSON string, CRNs, the creator, fields CML has and the local workspace does not
use, shown with their zero values) is decided here, by the routes' room.
"""

from __future__ import annotations

from typing import Any

from automation.local.core.ids import crn
from automation.local.core.shapes import env_json, short_user, slugify
from automation.local.core.timefmt import rfc3339
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
