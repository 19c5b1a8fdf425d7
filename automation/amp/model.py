"""The typed model of an AMP's ``.project-metadata.yaml`` (specification version 1.0).

Every top-level key, environment-variable sub-key, runtime key and task type/field that public AMPs
use is modelled (see ``shared/reference/amp-project-metadata.md``), including the legacy ones CML
still tolerates (``api_version``, ``prompt_user``, ``engine_images``, ``cpu_millicores``...), so a real
AMP validates while a misspelt key is an error with a suggestion. Values are coerced the way CML
reads them: versions written as YAML numbers (``1.0``) become text, environment values become
strings, ``arguments: None`` means "no arguments".
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

AMP_FILENAME = ".project-metadata.yaml"
SPEC_VERSIONS = ("1.0",)
KNOWN_FEATURES = ("model_metrics",)

_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# --- coercions ---------------------------------------------------------------------------------------


def _text(value: Any) -> Any:
    """``specification_version: 1.0`` is a YAML float; the format means the text ``"1.0"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


def _env_map(value: Any) -> Any:
    """Environment values are strings; YAML numbers and booleans are turned into their text."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return value
    out: dict[Any, Any] = {}
    for key, item in value.items():
        if item is None:
            out[key] = ""
        elif isinstance(item, bool):
            out[key] = "true" if item else "false"
        elif isinstance(item, int | float):
            out[key] = str(item)
        else:
            out[key] = item
    return out


def _env_key(value: str) -> str:
    if not _ENV_KEY.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid environment variable name (letters, digits, '_', not starting with a digit)"
        )
    return value


def _none_list(value: Any) -> Any:
    return [] if value is None else value


def _none_map(value: Any) -> Any:
    return {} if value is None else value


Text = Annotated[str, BeforeValidator(_text)]
EnvKey = Annotated[str, AfterValidator(_env_key)]
Environment = Annotated[dict[EnvKey, str], BeforeValidator(_env_map)]
Cpu = Annotated[float, Field(gt=0, le=128)]
MemoryGb = Annotated[float, Field(gt=0, le=2048)]
Gpus = Annotated[int, Field(ge=0, le=64)]


def no_arguments(value: str | None) -> bool:
    """Real AMPs write ``arguments: None`` (the text) for "no arguments" (385 of 387 create_job tasks)."""
    return value is None or value.strip() in ("", "None", "none", "null")


# --- base ----------------------------------------------------------------------------------------------


class AmpModel(BaseModel):
    """Base of every section: unknown keys are errors (reported with a "did you mean")."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, protected_namespaces=())


# --- top-level sections -----------------------------------------------------------------------------------


class EnvVar(AmpModel):
    """One project environment variable the user confirms or fills in at launch."""

    default: str | int | float | bool | None = Field(
        default=None, description="Pre-filled value, read as the text written (`yes` stays yes)."
    )
    description: str = Field(default="", description="Shown next to the field on the launch form.")
    required: bool = Field(default=False, description="The user must give a non-empty value.")
    prompt_user: bool | None = Field(default=None, description="Legacy (2020-2021); ignored.")

    @property
    def value(self) -> str:
        """The default as the text CML puts in the project environment."""
        if self.default is None:
            return ""
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return str(self.default)


def _env_var(value: Any) -> Any:
    """``NAME:`` with nothing under it is an empty declaration."""
    return {} if value is None else value


class Runtime(AmpModel):
    """The ML Runtime the project and its workloads use."""

    editor: str = Field(description="Workbench, PBJ Workbench or JupyterLab.")
    kernel: str = Field(description="e.g. Python 3.10.")
    edition: str = Field(default="Standard", description="Standard or Nvidia GPU.")
    version: Text | None = Field(default=None, description="Pinned runtime release (e.g. 2022.11); fragile.")
    addons: Annotated[list[str], BeforeValidator(_none_list)] = Field(
        default_factory=list, description="Runtime add-on display names (Spark)."
    )


class EngineImage(AmpModel):
    """Legacy engine image recommendation (replaced by ``runtimes``)."""

    image_name: str = Field(description="Usually `engine`.")
    tags: Annotated[list[Text], BeforeValidator(_none_list)] = Field(default_factory=list)


# --- tasks ----------------------------------------------------------------------------------------------

TaskType = Literal[
    "create_job", "run_job", "run_session", "create_model", "build_model", "deploy_model", "start_application"
]
TASK_TYPES: tuple[str, ...] = TaskType.__args__  # type: ignore[attr-defined]


class TaskBase(AmpModel):
    """Fields every task may have."""

    type: str
    short_summary: str | None = Field(default=None, description="One line shown for the step.")
    long_summary: str | None = Field(default=None, description="Longer text for the step.")

    @property
    def label(self) -> str | None:
        return getattr(self, "entity_label", None)

    @property
    def title(self) -> str:
        """How the task is named in messages and plans."""
        name = getattr(self, "name", None) or self.label or ""
        return f"{self.type} {name!r}" if name else self.type


class CreateJob(TaskBase):
    """Create a CML job (it is not run: ``run_job`` does that)."""

    type: Literal["create_job"]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    entity_label: Annotated[str, Field(min_length=1)]
    script: Annotated[str, Field(min_length=1)]
    arguments: Text | None = Field(default=None, description="`None` (the text) means no arguments.")
    cpu: Cpu | None = None
    memory: MemoryGb | None = None
    gpu: Gpus | None = None
    environment: Environment = Field(default_factory=dict)
    kernel: str | None = Field(default=None, description="Legacy engines only.")
    timeout: Annotated[int, Field(gt=0)] | None = Field(default=None, description="Seconds (API v2 unit).")

    @property
    def argument_text(self) -> str:
        return "" if no_arguments(self.arguments) else str(self.arguments)


class RunJob(TaskBase):
    """Run the job created under ``entity_label`` and wait for the run to end."""

    type: Literal["run_job"]
    entity_label: Annotated[str, Field(min_length=1)]
    name: str | None = Field(default=None, description="Pre-1.0 files linked by name; informational.")
    cpu: Cpu | None = None
    memory: MemoryGb | None = None
    gpu: Gpus | None = None
    arguments: Text | None = None
    environment: Environment = Field(default_factory=dict)
    kernel: str | None = None

    @property
    def argument_text(self) -> str:
        return "" if no_arguments(self.arguments) else str(self.arguments)


class RunSession(TaskBase):
    """Run one script in a session (API v2 has no sessions: cmlops runs it as a one-off job)."""

    type: Literal["run_session"]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    script: str | None = None
    code: str | None = Field(
        default=None, description="Inline code instead of a script (documented, unseen)."
    )
    cpu: Cpu | None = None
    memory: MemoryGb | None = None
    gpu: Gpus | None = None
    kernel: str | None = None

    @model_validator(mode="after")
    def _script_or_code(self) -> RunSession:
        if not self.script and not self.code:
            raise ValueError("a run_session needs a script (or inline code)")
        if self.script and self.code:
            raise ValueError("give a script or inline code, not both")
        return self


class Resources(AmpModel):
    """A model's default resources (GB and vCPU; the pre-1.0 form used millicores and MB)."""

    cpu: Cpu | None = None
    memory: MemoryGb | None = None
    gpu: Gpus | None = None
    cpu_millicores: Annotated[int, Field(gt=0)] | None = Field(default=None, description="Legacy.")
    memory_mb: Annotated[int, Field(gt=0)] | None = Field(default=None, description="Legacy.")

    @property
    def vcpu(self) -> float | None:
        if self.cpu is not None:
            return self.cpu
        return self.cpu_millicores / 1000 if self.cpu_millicores else None

    @property
    def memory_gb(self) -> float | None:
        if self.memory is not None:
            return self.memory
        return self.memory_mb / 1024 if self.memory_mb else None


class ReplicationPolicy(AmpModel):
    type: Literal["fixed"] = "fixed"
    num_replicas: Annotated[int, Field(ge=1, le=100)] = 1


class CreateModel(TaskBase):
    """Create a model (endpoint shell); ``build_model`` and ``deploy_model`` follow."""

    type: Literal["create_model"]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    entity_label: Annotated[str, Field(min_length=1)]
    description: str = ""
    access_key_environment_variable: EnvKey | None = Field(
        default=None, description="Project env var that receives the model's access key."
    )
    default_resources: Resources | None = None
    default_replication_policy: ReplicationPolicy | None = None
    auth_enabled: bool | None = Field(default=None, description="Legacy; API v2 disable_authentication.")


def _example_request(value: Any) -> Any:
    """2020 files wrote the request as a JSON string; read it as JSON."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError("the request is text that looks like JSON but does not parse") from None
    return value


class Example(AmpModel):
    """A sample request (and optionally its response) shown on the model page."""

    request: Annotated[Any, BeforeValidator(_example_request)]
    response: Any = None


class BuildModel(TaskBase):
    """Build the model created under ``entity_label`` from a file and a function."""

    type: Literal["build_model"]
    entity_label: Annotated[str, Field(min_length=1)]
    name: str | None = None
    target_file_path: Annotated[str, Field(min_length=1)]
    target_function_name: Annotated[str, Field(min_length=1)]
    examples: Annotated[list[Example], BeforeValidator(_none_list)] = Field(default_factory=list)
    comment: str | None = None
    kernel: str | None = None
    environment_variables: Environment = Field(default_factory=dict)
    environment: Environment = Field(default_factory=dict, description="Older spelling.")


class DeployModel(TaskBase):
    """Deploy the latest build of the model created under ``entity_label``."""

    type: Literal["deploy_model"]
    entity_label: Annotated[str, Field(min_length=1)]
    name: str | None = None
    cpu: Cpu | None = None
    memory: MemoryGb | None = None
    gpu: Gpus | None = None
    environment_variables: Environment = Field(default_factory=dict)
    environment: Environment = Field(default_factory=dict, description="Older spelling.")
    cpu_millicores: Annotated[int, Field(gt=0)] | None = Field(default=None, description="Legacy.")
    memory_mb: Annotated[int, Field(gt=0)] | None = Field(default=None, description="Legacy.")
    nvidia_gpus: Gpus | None = Field(default=None, description="Legacy.")


class StartApplication(TaskBase):
    """Create and start an application served at ``<subdomain>.<workspace domain>``."""

    type: Literal["start_application"]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    subdomain: Annotated[str, Field(min_length=1, max_length=63)]
    script: Annotated[str, Field(min_length=1)]
    description: str | None = None
    cpu: Cpu | None = None
    memory: MemoryGb | None = None
    gpu: Gpus | None = None
    kernel: str | None = None
    environment_variables: Environment = Field(default_factory=dict)
    environment: Environment = Field(default_factory=dict, description="Other spelling seen in AMPs.")
    bypass_authentication: bool = False
    static_subdomain: bool | None = None
    is_embedded: bool | None = None


Task = Annotated[
    CreateJob | RunJob | RunSession | CreateModel | BuildModel | DeployModel | StartApplication,
    Field(discriminator="type"),
]
TASK_MODELS: dict[str, type[TaskBase]] = {
    "create_job": CreateJob,
    "run_job": RunJob,
    "run_session": RunSession,
    "create_model": CreateModel,
    "build_model": BuildModel,
    "deploy_model": DeployModel,
    "start_application": StartApplication,
}


class AmpFile(AmpModel):
    """A whole ``.project-metadata.yaml``."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=2048)]
    author: Annotated[str, Field(min_length=1, max_length=64)]
    specification_version: Annotated[Text, Field(min_length=1, max_length=16)]
    prototype_version: Annotated[Text, Field(min_length=1, max_length=16)]
    date: Text | None = Field(default=None, description='Last change, "YYYY-MM-DD" (quoted).')
    shared_memory_limit: Annotated[float, Field(gt=0)] | None = Field(default=None, description="GB.")
    environment_variables: Annotated[
        dict[EnvKey, Annotated[EnvVar, BeforeValidator(_env_var)]], BeforeValidator(_none_map)
    ] = Field(default_factory=dict)
    feature_dependencies: Annotated[list[str], BeforeValidator(_none_list)] = Field(default_factory=list)
    engine_images: Annotated[list[EngineImage], BeforeValidator(_none_list)] = Field(default_factory=list)
    runtimes: Annotated[list[Runtime], BeforeValidator(_none_list)] = Field(default_factory=list)
    tasks: Annotated[list[Task], BeforeValidator(_none_list)] = Field(default_factory=list)
    api_version: int | str | None = Field(default=None, description="Legacy (2020-2021); ignored.")

    def runtime(self) -> Runtime | None:
        """The runtime the launch uses: the first one declared."""
        return self.runtimes[0] if self.runtimes else None

    def tasks_of(self, kind: type[TaskBase]) -> list[tuple[int, Any]]:
        return [(i, t) for i, t in enumerate(self.tasks) if isinstance(t, kind)]

    def job_for(self, label: str) -> CreateJob | None:
        """The create_job task that defines ``label``."""
        return next((t for t in self.tasks if isinstance(t, CreateJob) and t.entity_label == label), None)

    def model_for(self, label: str) -> CreateModel | None:
        return next((t for t in self.tasks if isinstance(t, CreateModel) and t.entity_label == label), None)

    def build_for(self, label: str, before: int | None = None) -> BuildModel | None:
        """The last build_model of ``label`` (before task index ``before`` when given)."""
        found = None
        for i, task in enumerate(self.tasks):
            if before is not None and i >= before:
                break
            if isinstance(task, BuildModel) and task.entity_label == label:
                found = task
        return found
