"""The fields a spec wants on each resource, computed here only: plan diffs them, apply sends them,
observe's ``matches()`` and the promotion workflow compare and create deployments with them.

Values are in the typed API models' normal form (floats for cpu/memory, ints for gpus, replicas and
timeouts, environment values as strings), so a converged workspace compares equal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from automation.api.types import ModelDeployment


def environment(env: Mapping[str, Any] | None) -> dict[str, str]:
    return {k: str(v) for k, v in (env or {}).items()}


def project(pspec: Any) -> dict[str, Any]:
    """A project's compared fields (its git source is sent on create only)."""
    return {"description": pspec.description or "", "environment": dict(pspec.environment or {})}


def job(spec_job: Any, runtime_identifier: str | None, addons: Sequence[str] = ()) -> dict[str, Any]:
    """A job's fields as apply sends them (create and PATCH). ``after`` is the parent job's name
    (apply sends its id as ``parent_id``); ``timezone`` is compared only for a scheduled job."""
    out = {
        "script": spec_job.script,
        "arguments": spec_job.arguments or "",
        "cpu": float(spec_job.cpu),
        "memory": float(spec_job.memory),
        "nvidia_gpu": int(spec_job.gpus),
        "timeout": int(spec_job.timeout),
        "environment": environment(spec_job.environment),
        "runtime_identifier": runtime_identifier,
        "runtime_addon_identifiers": list(addons),
        "after": spec_job.after,
        "schedule": spec_job.schedule.cron if spec_job.schedule else "",
    }
    if spec_job.schedule:
        out["timezone"] = spec_job.schedule.timezone
    return out


def application(app: Any, runtime_identifier: str | None, addons: Sequence[str] = ()) -> dict[str, Any]:
    """An application's fields as apply sends them (create and PATCH)."""
    return {
        "script": app.script,
        "subdomain": app.subdomain,
        "description": app.description or "",
        "cpu": float(app.cpu),
        "memory": float(app.memory),
        "nvidia_gpu": int(app.gpus),
        "environment": environment(app.environment),
        "bypass_authentication": bool(app.bypass_authentication),
        "runtime_identifier": runtime_identifier,
        "runtime_addon_identifiers": list(addons),
    }


def endpoint(ep: Any) -> dict[str, Any]:
    """The PRD model (endpoint) fields: its description and whether callers need a key."""
    return {"description": ep.description or "", "auth_enabled": bool(ep.auth)}


def deployment(ep: Any) -> dict[str, Any]:
    """A deployment's resources as the spec wants them (the keys of ``deployment_fields``)."""
    return {
        "cpu": float(ep.cpu),
        "memory": float(ep.memory),
        "replicas": int(ep.replicas),
        "nvidia_gpu": int(ep.gpus),
        "environment": environment(ep.environment),
    }


def deployment_request(ep: Any) -> dict[str, Any]:
    """``deployment(ep)`` as the keyword arguments of ``client.models.create_deployment``."""
    want = deployment(ep)
    return {
        "cpu": want["cpu"],
        "memory": want["memory"],
        "replicas": want["replicas"],
        "nvidia_gpus": want["nvidia_gpu"],
        "environment": want["environment"],
    }


def deployment_fields(dep: ModelDeployment) -> dict[str, Any]:
    """An observed deployment in the form of ``deployment()`` (server defaults filled in)."""
    return {
        "cpu": float(dep.cpu),
        "memory": float(dep.memory),
        "replicas": int(dep.replicas or 1),
        "nvidia_gpu": int(dep.nvidia_gpu or 0),
        "environment": dict(dep.environment or {}),
    }


def matches(dep: ModelDeployment, ep: Any) -> bool:
    """Does a deployment have the endpoint's resources?"""
    return deployment_fields(dep) == deployment(ep)
