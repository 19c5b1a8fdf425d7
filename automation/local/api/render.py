"""Wire shapes of the workloads' documents: job runs, builds, deployments, applications (API v2 JSON).

The workloads keep plain documents; what a client sees (RFC 3339 times, the environment as a JSON
string, CRNs, the creator) is decided here, by the routes' room.
"""

from __future__ import annotations

from typing import Any

from automation.local.core.ids import crn
from automation.local.core.shapes import env_json, short_user
from automation.local.core.timefmt import rfc3339


def render_run(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "project_id": doc["project_id"],
        "job_id": doc["job_id"],
        "status": doc["status"],
        "id": doc["id"],
        "created_at": rfc3339(doc["created_at"]),
        "scheduling_at": rfc3339(doc.get("scheduling_at")),
        "starting_at": rfc3339(doc.get("starting_at")),
        "running_at": rfc3339(doc.get("running_at")),
        "finished_at": rfc3339(doc.get("finished_at")),
        "kernel": doc.get("kernel", ""),
        "cpu": doc.get("cpu", 1.0),
        "memory": doc.get("memory", 1.0),
        "nvidia_gpu": doc.get("nvidia_gpu", 0),
        "arguments": doc.get("arguments", ""),
        "environment": env_json(doc.get("environment")),
        "creator": short_user(),
        "runtime_identifier": doc.get("runtime_identifier", ""),
        "resource_group_id": 0,
    }


def render_build(doc: dict[str, Any]) -> dict[str, Any]:
    comment = doc.get("comment", "")
    if doc["status"] == "build failed" and doc.get("failure_reason"):
        comment = f"{comment} [build failed: {doc['failure_reason']}]".lstrip()
    return {
        "id": doc["id"],
        "model_id": doc["model_id"],
        "creator": short_user(),
        "comment": comment,
        "file_path": doc.get("file_path", ""),
        "function_name": doc.get("function_name", ""),
        "engine_image": "",
        "kernel": doc.get("kernel", ""),
        "created_at": rfc3339(doc["created_at"]),
        "updated_at": rfc3339(doc["updated_at"]),
        "status": doc["status"],
        "deletion_status": "",
        "crn": crn("build", doc["id"]),
        "built_at": rfc3339(doc.get("built_at")),
        "runtime_identifier": doc.get("runtime_identifier", ""),
        "runtime_addon_identifiers": doc.get("runtime_addon_identifiers", []),
        "registered_model_version_id": doc.get("registered_model_version_id", ""),
        "model_root_dir": doc.get("model_root_dir", ""),
        "build_script_path": doc.get("build_script_path", ""),
    }


def render_deployment(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "project_id": doc["project_id"],
        "model_id": doc["model_id"],
        "build_id": doc["build_id"],
        "id": doc["id"],
        "cpu": doc.get("cpu", 1.0),
        "memory": doc.get("memory", 2.0),
        "nvidia_gpu": doc.get("nvidia_gpu", 0),
        "environment": env_json(doc.get("environment")),
        "created_at": rfc3339(doc["created_at"]),
        "updated_at": rfc3339(doc["updated_at"]),
        "stopped_at": rfc3339(doc.get("stopped_at")),
        "crn": crn("deployment", doc["id"]),
        "deployer": short_user(),
        "status": doc["status"],
        "replicas": doc.get("replicas", 1),
        "accelerator_label_id": "0",
        "resource_group_id": 0,
        "resource_profile_id": 0,
    }


def render_application(doc: dict[str, Any]) -> dict[str, Any]:
    """The swagger's Application, with zero values for fields never set."""
    return {
        "id": doc["id"],
        "name": doc.get("name", ""),
        "description": doc.get("description", ""),
        "creator": short_user(),
        "script": doc.get("script", ""),
        "subdomain": doc.get("subdomain", ""),
        "status": doc["status"],
        "created_at": rfc3339(doc["created_at"]),
        "stopped_at": rfc3339(doc.get("stopped_at")),
        "updated_at": rfc3339(doc["updated_at"]),
        "starting_at": rfc3339(doc.get("starting_at")),
        "running_at": rfc3339(doc.get("running_at")),
        "kernel": doc.get("kernel", ""),
        "cpu": doc.get("cpu", 1.0),
        "memory": doc.get("memory", 1.0),
        "nvidia_gpu": doc.get("nvidia_gpu", 0),
        "bypass_authentication": doc.get("bypass_authentication", False),
        "environment": env_json(doc.get("environment")),
        "runtime_identifier": doc.get("runtime_identifier", ""),
        "runtime_addon_identifiers": doc.get("runtime_addon_identifiers", []),
        "run_as": doc.get("run_as", 0),
        "cdv_app": doc.get("cdv_app", False),
        "accelerator_label_id": "0",
        "resource_group_id": 0,
        "resource_profile_id": 0,
    }
