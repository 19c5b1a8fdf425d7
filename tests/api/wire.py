"""Strict `responses` helpers for the API v2 client tests, and CML-shaped response bodies.

``Wire.expect`` registers one answer that only matches when method, path, query string and body
are exactly what the test says (no query and no body unless given), so every test asserts the
request it causes. Bodies below copy the real wire quirks: int64 as strings, ``environment`` as a
JSON string, empty strings for zero values, and fields the client does not know.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any

import responses
from requests import PreparedRequest
from responses import matchers

BASE = "https://cml.example.test"
MODEL_SERVICE = "https://modelservice.cml.example.test/model"
API_KEY = "apiv2-secret-0123456789abcdef0123456789abcdef"
ACCESS_KEY = "mabcdefghijklmnopqrstuvwxyz01234"

NO_BODY = object()
ANY_BODY = object()


class MaxJitter(random.Random):
    """A jitter source that always picks the top of the range, so backoff sleeps are exact."""

    def uniform(self, a: float, b: float) -> float:
        return b


def search(**keys: str) -> str:
    """search_filter as the client puts it on the wire: compact JSON."""
    return json.dumps(keys, separators=(",", ":"))


def _no_body(request: PreparedRequest) -> tuple[bool, str]:
    if request.body in (None, b"", ""):
        return True, ""
    return False, f"expected no request body, got {request.body!r}"


class Wire:
    """A thin layer over a strict RequestsMock."""

    def __init__(self, mock: responses.RequestsMock, base: str = BASE) -> None:
        self.mock = mock
        self.base = base

    def expect(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = NO_BODY,
        reply: Any = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        match: list[Any] | None = None,
    ) -> responses.BaseResponse:
        """Register one answer for exactly this request (query/body default to "none at all")."""
        checks: list[Any] = [
            matchers.query_param_matcher(dict(query or {})),
            matchers.header_matcher({"Authorization": f"Bearer {API_KEY}"}),
        ]
        if body is NO_BODY:
            checks.append(_no_body)
        elif body is not ANY_BODY:
            checks.append(matchers.json_params_matcher(body, strict_match=True))
        checks.extend(match or [])
        if isinstance(reply, BaseException):
            return self.mock.add(method, self.base + path, body=reply, match=checks)
        payload = {} if reply is None else reply
        kwargs: dict[str, Any] = {"status": status, "headers": dict(headers or {})}
        if isinstance(payload, (bytes, str)):
            kwargs["body"] = payload
        else:
            kwargs["json"] = payload
        return self.mock.add(method, self.base + path, match=checks, **kwargs)

    def page(
        self,
        path: str,
        key: str,
        items: list[dict[str, Any]],
        *,
        token: str | None,
        next_token: str = "",
        page_size: int = 100,
        query: Mapping[str, Any] | None = None,
    ) -> responses.BaseResponse:
        """One page of a list call: page_size is always sent, page_token only after the first page."""
        q: dict[str, Any] = {"page_size": str(page_size), **dict(query or {})}
        if token is not None:
            q["page_token"] = token
        return self.expect("GET", path, query=q, reply={key: items, "next_page_token": next_token})


# --- CML-shaped bodies --------------------------------------------------------------------------


def project(pid: str = "abcd-1234-efgh-5678", name: str = "wine-dev", **over: Any) -> dict[str, Any]:
    body = {
        "id": pid,
        "name": name,
        "owner": {"username": "alice", "name": "Alice", "email": "alice@example.com"},
        "creator": {"username": "alice", "name": "Alice", "email": "alice@example.com"},
        "description": "",
        "visibility": "private",
        "default_engine_type": "ml_runtime",
        "created_at": "2026-01-02T03:04:05.123456Z",
        "updated_at": "2026-01-02T03:04:05.123456Z",
        "creation_status": "success",
        "permissions": {"read": True, "write": True, "admin": True},
        "shared_memory_limit": 64,
        "environment": '{"STAGE":"dev"}',
        "ephemeral_storage_request": 0,
        "ephemeral_storage_limit": 10,
        "slug": name,
        "a_field_from_a_newer_release": {"x": 1},
    }
    body.update(over)
    return body


def runtime(full_version: str, *, status: str = "ENABLED", **over: Any) -> dict[str, Any]:
    body = {
        "image_identifier": f"docker.repository.cloudera.com/cloudera/cdsw/ml-runtime-workbench-python3.10-standard:{full_version}",
        "editor": "Workbench",
        "kernel": "Python 3.10",
        "edition": "Standard",
        "description": "Standard edition Python runtime",
        "full_version": full_version,
        "status": status,
        "register_user_id": 0,
    }
    body.update(over)
    return body


def job(jid: str = "job-1", name: str = "train", **over: Any) -> dict[str, Any]:
    body = {
        "id": jid,
        "name": name,
        "script": "code/train.py",
        "cpu": 2,
        "memory": 4,
        "nvidia_gpu": 0,
        "arguments": "",
        "kernel": "",
        "type": "manual",
        "parent_id": "",
        "timeout": "3600",
        "environment": '{"ALPHA":"0.5"}',
        "runtime_identifier": "rt:2025.01.1-b1",
        "kill_on_timeout": True,
        "engine_image_id": "0",
        "project": {"public_identifier": "p1", "name": "wine-dev"},
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
        "retry_enabled": False,
    }
    body.update(over)
    return body


def job_run(rid: str = "run-1", status: str = "ENGINE_SCHEDULING", **over: Any) -> dict[str, Any]:
    body = {
        "id": rid,
        "project_id": "p1",
        "job_id": "job-1",
        "status": status,
        "created_at": "2026-01-02T03:04:05Z",
        "scheduling_at": None,
        "running_at": None,
        "finished_at": None,
        "cpu": 2,
        "memory": 4,
        "nvidia_gpu": 0,
        "arguments": "",
        "environment": "{}",
        "creator": {"username": "alice"},
        "runtime_identifier": "rt:2025.01.1-b1",
    }
    body.update(over)
    return body


def experiment(eid: str = "mwzb-4nfp-me2y-h3z0", name: str = "wine-quality", **over: Any) -> dict[str, Any]:
    body = {
        "id": eid,
        "project_id": "p1",
        "name": name,
        "artifact_location": f"/home/cdsw/.experiments/{eid}",
        "lifecycle_stage": "active",
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
        "tags": [],
        "user": {"username": "alice"},
    }
    body.update(over)
    return body


def experiment_run(rid: str = "r1", **over: Any) -> dict[str, Any]:
    body = {
        "id": rid,
        "name": "lucky-run",
        "experiment_id": "mwzb-4nfp-me2y-h3z0",
        "status": "EXPERIMENT_RUN_FINISHED",
        "start_time": "2026-01-02T03:04:05Z",
        "end_time": "2026-01-02T03:05:05Z",
        "artifact_uri": "/home/cdsw/.experiments/mwzb-4nfp-me2y-h3z0/r1/artifacts",
        "data": {
            "metrics": [
                {"key": "rmse", "value": 0.61, "timestamp": "1767322000000", "step": "0"},
                {"key": "r2", "value": 0.38, "timestamp": "1767322000000", "step": "0"},
            ],
            "params": [{"key": "alpha", "value": "0.5"}],
            "tags": [{"key": "mlflow.user", "value": "alice"}],
            "files": [],
            "registered_model_metadata": [],
        },
        "inputs": {"dataset_inputs": []},
    }
    body.update(over)
    return body


def model_version(vid: str = "v1", status: str = "READY", **over: Any) -> dict[str, Any]:
    body = {
        "model_id": "rm-1",
        "model_version_id": vid,
        "version_name": "1",
        "number": "1",
        "notes": "",
        "user": {"username": "alice"},
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
        "status": status,
        "error_message": "",
        "model_version_metadata": {
            "mlops_type": "MLFLOW",
            "mlflow_metadata": {"experiment_id": "mwzb-4nfp-me2y-h3z0", "run_id": "r1", "metrics": []},
        },
        "tags": [{"key": "stage", "value": "dev"}],
    }
    body.update(over)
    return body


def registered_model(mid: str = "rm-1", name: str = "wine-model", **over: Any) -> dict[str, Any]:
    body = {
        "model_id": mid,
        "name": name,
        "description": "",
        "owner": {"username": "alice"},
        "visibility": "PRIVATE",
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
        "count": "1",
        "model_versions": [model_version()],
        "next_page_token": "",
    }
    body.update(over)
    return body


def model(
    mid: str = "73092171-1b50-4317-95fe-983937c6ab90", name: str = "wine-endpoint", **over: Any
) -> dict[str, Any]:
    body = {
        "id": mid,
        "name": name,
        "description": "",
        "creator": {"username": "alice"},
        "access_key": ACCESS_KEY,
        "deletion_status": "",
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
        "crn": f"crn:cdp:ml:us-west-1:tenant:workspace:ws/{mid}",
        "auth_enabled": True,
        "project": {"public_identifier": "prd1", "name": "wine-prd"},
        "registered_model_id": "rm-1",
        "visibility": "private",
        "default_resources": {"cpu_millicores": "1000", "memory_mb": "2048", "nvidia_gpus": "0"},
        "default_replication_policy": {"num_replicas": "1", "type": "fixed"},
        "run_as": 0,
    }
    body.update(over)
    return body


def build(bid: str = "b1", status: str = "queued", **over: Any) -> dict[str, Any]:
    body = {
        "id": bid,
        "model_id": "m1",
        "creator": {"username": "alice"},
        "comment": "",
        "file_path": "",
        "function_name": "",
        "engine_image": "",
        "kernel": "",
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
        "built_at": None,  # an unset Timestamp is null
        "status": status,
        "deletion_status": "",
        "crn": "crn:build",
        "runtime_identifier": "rt:2025.01.1-b1",
        "registered_model_version_id": "v1",
    }
    body.update(over)
    return body


def deployment(did: str = "d1", status: str = "pending", **over: Any) -> dict[str, Any]:
    body = {
        "id": did,
        "project_id": "prd1",
        "model_id": "m1",
        "build_id": "b1",
        "cpu": 1,
        "memory": 2,
        "nvidia_gpu": 0,
        "environment": '{"MODEL_FLAVOR":"sklearn"}',
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
        "stopped_at": None,
        "crn": "crn:deployment",
        "deployer": {"username": "alice"},
        "status": status,
        "replicas": "2",
    }
    body.update(over)
    return body


def application(aid: str = "app-1", name: str = "dashboard", **over: Any) -> dict[str, Any]:
    body = {
        "id": aid,
        "name": name,
        "description": "",
        "creator": {"username": "alice"},
        "script": "app.py",
        "subdomain": "wine-dash",
        "status": "APPLICATION_STARTING",
        "created_at": "2026-01-02T03:04:05Z",
        "cpu": 1,
        "memory": 2,
        "nvidia_gpu": 0,
        "bypass_authentication": False,
        "environment": "{}",
        "runtime_identifier": "rt:2025.01.1-b1",
    }
    body.update(over)
    return body
