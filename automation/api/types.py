"""Typed views of API v2 responses.

Every model accepts unknown fields (the server adds fields between releases) and normalises the
wire quirks: ``environment`` arrives as a JSON string, int64 values arrive as strings, zero values
may be empty strings or absent. ``raw`` keeps the original body for callers that need more.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())

    @model_validator(mode="before")
    @classmethod
    def _null_is_unset(cls, data: Any) -> Any:
        """An unset message field (e.g. a Timestamp) may arrive as ``null``: read it as absent."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None or k not in cls.model_fields}
        return data

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ApiModel:
        return cls.model_validate(data or {})


def _env(value: Any) -> dict[str, str]:
    """``environment`` is a map in requests but a JSON-encoded string in responses."""
    if value in (None, "", "{}"):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {}


def _num(value: Any) -> Any:
    """int64/double fields come as strings (proto3 JSON) or are missing."""
    if value in (None, ""):
        return 0
    return value


def _pairs(items: Any) -> dict[str, Any]:
    """[{key, value}, ...] -> {key: value}; the last value of a key wins."""
    out: dict[str, Any] = {}
    for item in items or []:
        if isinstance(item, dict) and "key" in item:
            out[str(item["key"])] = item.get("value")
    return out


class EnvMixin(ApiModel):
    environment: dict[str, str] = Field(default_factory=dict)

    @field_validator("environment", mode="before")
    @classmethod
    def _parse_env(cls, v: Any) -> dict[str, str]:
        return _env(v)


class Project(EnvMixin):
    id: str
    name: str = ""
    description: str = ""
    visibility: str = ""
    creation_status: str = ""
    default_engine_type: str = ""
    slug: str = ""
    owner: dict[str, Any] | None = None
    created_at: str = ""
    updated_at: str = ""


class Runtime(ApiModel):
    image_identifier: str
    editor: str = ""
    kernel: str = ""
    edition: str = ""
    description: str = ""
    full_version: str = ""
    status: str = ""


class RuntimeAddon(ApiModel):
    """A runtime add-on (Spark, Hadoop CLI): its ``identifier`` goes in ``runtime_addon_identifiers``."""

    identifier: str
    component: str = ""
    display_name: str = ""
    status: str = ""
    reason: str = ""


class Job(EnvMixin):
    id: str
    name: str = ""
    script: str = ""
    arguments: str = ""
    cpu: float = 0
    memory: float = 0
    nvidia_gpu: int = 0
    timeout: int = 0
    kill_on_timeout: bool = False
    runtime_identifier: str = ""
    runtime_addon_identifiers: list[str] = Field(default_factory=list)
    parent_id: str = ""
    type: str = ""
    schedule: str = ""
    timezone: str = ""
    paused: bool = False
    created_at: str = ""
    updated_at: str = ""

    _nums = field_validator("cpu", "memory", "nvidia_gpu", "timeout", mode="before")(
        classmethod(lambda cls, v: _num(v))
    )


class JobRun(EnvMixin):
    id: str
    project_id: str = ""
    job_id: str = ""
    status: str = ""
    arguments: str = ""
    runtime_identifier: str = ""
    created_at: str = ""
    running_at: str = ""
    finished_at: str = ""


class Experiment(ApiModel):
    id: str
    project_id: str = ""
    name: str = ""
    artifact_location: str = ""
    lifecycle_stage: str = ""
    created_at: str = ""
    tags: list[dict[str, Any]] = Field(default_factory=list)


class ExperimentRun(ApiModel):
    id: str
    name: str = ""
    experiment_id: str = ""
    status: str = ""
    start_time: str = ""
    end_time: str = ""
    artifact_uri: str = ""
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in _pairs(self.data.get("metrics")).items() if v is not None}

    @property
    def params(self) -> dict[str, str]:
        return {k: str(v) for k, v in _pairs(self.data.get("params")).items()}

    @property
    def tags(self) -> dict[str, str]:
        return {k: str(v) for k, v in _pairs(self.data.get("tags")).items()}


class RegisteredModelVersion(ApiModel):
    model_id: str = ""
    model_version_id: str
    version_name: str = ""
    number: int = 0
    notes: str = ""
    status: str = ""
    error_message: str = ""
    created_at: str = ""
    model_version_metadata: dict[str, Any] = Field(default_factory=dict)
    tags: list[dict[str, Any]] = Field(default_factory=list)

    _n = field_validator("number", mode="before")(classmethod(lambda cls, v: _num(v)))

    @property
    def run_id(self) -> str:
        return str((self.model_version_metadata.get("mlflow_metadata") or {}).get("run_id") or "")

    @property
    def experiment_id(self) -> str:
        return str((self.model_version_metadata.get("mlflow_metadata") or {}).get("experiment_id") or "")

    @property
    def tag_map(self) -> dict[str, str]:
        return {k: str(v) for k, v in _pairs(self.tags).items()}


class RegisteredModel(ApiModel):
    model_id: str
    name: str = ""
    description: str = ""
    visibility: str = ""
    created_at: str = ""
    model_versions: list[RegisteredModelVersion] = Field(default_factory=list)
    next_page_token: str = ""


class Model(ApiModel):
    id: str
    name: str = ""
    description: str = ""
    access_key: str = Field(default="", repr=False)
    auth_enabled: bool = False
    registered_model_id: str = ""
    deletion_status: str = ""
    crn: str = ""
    created_at: str = ""
    default_resources: dict[str, Any] = Field(default_factory=dict)
    default_replication_policy: dict[str, Any] = Field(default_factory=dict)

    def __repr__(self) -> str:  # the access key identifies the model; keep it out of logs
        return f"Model(id={self.id!r}, name={self.name!r}, access_key='***')"


class ModelBuild(ApiModel):
    id: str
    model_id: str = ""
    status: str = ""
    comment: str = ""
    registered_model_version_id: str = ""
    runtime_identifier: str = ""
    deletion_status: str = ""
    created_at: str = ""
    built_at: str = ""


class ModelDeployment(EnvMixin):
    id: str
    project_id: str = ""
    model_id: str = ""
    build_id: str = ""
    status: str = ""
    cpu: float = 0
    memory: float = 0
    nvidia_gpu: int = 0
    replicas: int = 0
    created_at: str = ""
    stopped_at: str = ""

    _nums = field_validator("cpu", "memory", "nvidia_gpu", "replicas", mode="before")(
        classmethod(lambda cls, v: _num(v))
    )


class Application(EnvMixin):
    id: str
    name: str = ""
    subdomain: str = ""
    script: str = ""
    description: str = ""
    status: str = ""
    cpu: float = 0
    memory: float = 0
    nvidia_gpu: int = 0
    bypass_authentication: bool = False
    runtime_identifier: str = ""
    runtime_addon_identifiers: list[str] = Field(default_factory=list)
    created_at: str = ""

    _nums = field_validator("cpu", "memory", "nvidia_gpu", mode="before")(classmethod(lambda cls, v: _num(v)))


class FileInfo(ApiModel):
    path: str
    is_dir: bool = False
    file_size: int = 0

    _n = field_validator("file_size", mode="before")(classmethod(lambda cls, v: _num(v)))


class KeyInfo(ApiModel):
    valid: bool = False
    username: str = ""
    message: str = ""
