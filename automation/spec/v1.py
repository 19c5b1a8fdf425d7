"""Spec version 1, read for compatibility: a v1 file is validated with these sections (its errors keep
their v1 field names and lines), then converted to the v2 shape by ``automation.spec.migrate``.

Version 1 has one training job (with an optional install step), one registered model and one
endpoint. Nothing outside the loader and ``cmlops migrate`` uses these classes.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from automation.spec.fields import (
    Cpu,
    Environment,
    Gpus,
    MemoryGb,
    Name,
    RegisteredName,
    Seconds,
    SpecModel,
    rel_path,
)
from automation.spec.models import Endpoint, Gates, Select, SpecBase


class Job(SpecModel):
    """The CML job that trains the model in the DEV project and logs it to MLflow."""

    name: Name = Field(description="Job name in the DEV project.")
    script: Annotated[str, rel_path("script")] = Field(
        description="Script the job runs, relative to the repo (= project) root."
    )
    arguments: str = Field(default="", max_length=4000, description="Command-line arguments, one string.")
    environment: Environment = Field(
        default_factory=dict,
        description="Job environment variables; numbers are turned into strings.",
    )
    cpu: Cpu = Field(default=1.0, description="vCPUs for each run (> 0).")
    memory: MemoryGb = Field(default=2.0, description="Memory in GB for each run (> 0).")
    gpus: Gpus = Field(default=0, description="NVIDIA GPUs for each run (>= 0).")
    timeout: Seconds = Field(
        default=1800,
        description="Seconds before CML stops a run (the job's kill timeout). cmlops waits for a run "
        "max(this, timeouts.job_run) seconds.",
    )


class InstallStep(SpecModel):
    """The dependency step: a DEV job that installs the project's packages before training runs.

    CML's Standard runtimes have no scikit-learn and only mlflow-skinny: a project installs what it
    imports into its own environment (which CML keeps across runs), the way CML users do it with a
    first job. cmlops runs this job, waits for it to succeed, then runs the training job.
    """

    name: Name = Field(description="Job name in the DEV project.")
    script: Annotated[str, rel_path("script")] = Field(
        description="Script that installs the packages (e.g. pip install -r requirements.txt)."
    )
    arguments: str = Field(default="", max_length=4000, description="Command-line arguments, one string.")
    cpu: Cpu = Field(default=1.0, description="vCPUs for each run (> 0).")
    memory: MemoryGb = Field(default=2.0, description="Memory in GB for each run (> 0).")
    timeout: Seconds = Field(default=900, description="Seconds before CML stops a run of the install job.")


class Training(SpecModel):
    """How the model is trained: the experiment runs are logged to, and the job that logs them."""

    experiment: Name = Field(description="MLflow experiment (the DEV project's Experiments tab).")
    install: InstallStep | None = Field(
        default=None,
        description="Optional dependency step run before each training run (a CML job that installs "
        "the project's requirements into the project).",
    )
    job: Job = Field(description="The training job.")

    @model_validator(mode="after")
    def _distinct_jobs(self) -> Training:
        if self.install is not None and self.install.name == self.job.name:
            raise ValueError("training.install.name must differ from training.job.name (they are two jobs)")
        return self


class ModelV1(SpecModel):
    """The registered model: which run's artifact is registered, under which name, and its gates."""

    registered_name: RegisteredName = Field(
        description="Name in the workspace model registry (no '/', ':', quotes, backticks or backslashes)."
    )
    artifact_path: Annotated[str, rel_path("artifact_path")] = Field(
        default="model", description="Artifact path the training run logged the MLflow model under."
    )
    select: Select = Field(default_factory=Select, description="How the candidate run is picked.")
    gates: Gates = Field(default_factory=Gates, description="Promotion gates.")


def _check_version(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("version must be the number 1")
    if str(value).strip() != "1":
        raise ValueError("unsupported spec version; this cmlops reads version: 1")
    return 1


class SpecV1(SpecBase):
    """A version 1 spec: projects, one training job, one model, one endpoint."""

    version: Annotated[
        int,
        BeforeValidator(_check_version),
        WithJsonSchema({"const": 1, "type": "integer"}),
    ] = Field(description="Spec format version 1 (run `cmlops migrate FILE` to rewrite it as version 2).")
    training: Training = Field(description="The training job and its experiment.")
    model: ModelV1 = Field(description="The registered model and its promotion gates.")
    deployment: Endpoint = Field(description="The PRD model endpoint and its smoke test.")
