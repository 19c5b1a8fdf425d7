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
from automation.local.state.records import Application, Build, Deployment, Job, JobRun, Model, Project

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


def render_job(job: Job, project: Project) -> dict[str, Any]:
    return {
        "id": job.id,
        "cpu": job.cpu,
        "created_at": rfc3339(job.created_at),
        "creator": short_user(),
        "engine_image_id": "0",
        "english_schedule": "",
        "arguments": job.arguments,
        "type": job.type,
        "kernel": job.kernel,
        "memory": job.memory,
        "name": job.name,
        "parent_id": job.parent_id,
        "paused": job.paused,
        "schedule": job.schedule,
        "script": job.script,
        "timeout": str(job.timeout),
        "timezone": job.timezone,
        "updated_at": rfc3339(job.updated_at),
        "environment": env_json(job.environment),
        "nvidia_gpu": job.nvidia_gpu,
        "runtime_identifier": job.runtime_identifier,
        "runtime_addon_identifiers": list(job.runtime_addon_identifiers),
        "kill_on_timeout": job.kill_on_timeout,
        "project": short_project(project),
        "owner": short_user(),
        "run_as": job.run_as,
        "attachments": list(job.attachments),
        **NO_RETRIES,
        **NO_RECIPIENTS,
        **NO_RESOURCE_PROFILE,
    }


def render_run(run: JobRun) -> dict[str, Any]:
    return {
        "project_id": run.project_id,
        "job_id": run.job_id,
        "status": run.status,
        "id": run.id,
        "created_at": rfc3339(run.created_at),
        "scheduling_at": rfc3339(run.scheduling_at),
        "starting_at": rfc3339(run.starting_at),
        "running_at": rfc3339(run.running_at),
        "finished_at": rfc3339(run.finished_at),
        "kernel": run.kernel,
        "cpu": run.cpu,
        "memory": run.memory,
        "nvidia_gpu": run.nvidia_gpu,
        "arguments": run.arguments,
        "environment": env_json(run.environment),
        "creator": short_user(),
        "runtime_identifier": run.runtime_identifier,
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
        "id": app.id,
        "name": app.name,
        "description": app.description,
        "creator": short_user(),
        "script": app.script,
        "subdomain": app.subdomain,
        "status": app.status,
        "created_at": rfc3339(app.created_at),
        "stopped_at": rfc3339(app.stopped_at),
        "updated_at": rfc3339(app.updated_at),
        "starting_at": rfc3339(app.starting_at),
        "running_at": rfc3339(app.running_at),
        "kernel": app.kernel,
        "cpu": app.cpu,
        "memory": app.memory,
        "nvidia_gpu": app.nvidia_gpu,
        "bypass_authentication": app.bypass_authentication,
        "environment": env_json(app.environment),
        "runtime_identifier": app.runtime_identifier,
        "runtime_addon_identifiers": list(app.runtime_addon_identifiers),
        "run_as": app.run_as,
        "cdv_app": app.cdv_app,
        **NO_RESOURCE_PROFILE,
    }
