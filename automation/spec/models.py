"""The typed spec: one pydantic model per section of the YAML file.

Every field has a description because ``cmlops schema`` exports them for editors. Models forbid unknown
keys (the loader turns that into "unknown key ... did you mean ..."). Validators never echo the value
they refuse: it may have come from a ``${env:...}`` secret.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from automation.errors import SpecError
from automation.spec.paths import check_relative_path
from automation.spec.yamlload import ABSENT, FieldPath, child

MASK = "**********"

# --- reusable field types ----------------------------------------------------------------------------

_SPEC_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_TARGET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _check_name(value: str) -> str:
    if not value:
        raise ValueError("the name is empty")
    if len(value) > 64:
        raise ValueError(f"the name is {len(value)} characters long; at most 64 are allowed")
    if value != value.strip():
        raise ValueError("the name starts or ends with whitespace")
    if _CONTROL.search(value):
        raise ValueError("the name contains a control character")
    return value


_REGISTRY_REFUSES = re.compile(r"[/:'`\"\\]")


def _check_registered_name(value: str) -> str:
    """What the model registry (MLflow's, behind CML's) refuses, caught before anything is written."""
    _check_name(value)
    bad = _REGISTRY_REFUSES.search(value)
    if bad:
        raise ValueError(
            f"the model registry refuses {bad.group()!r} in a name (no '/', ':', quotes, backticks or "
            "backslashes); use e.g. '-' instead"
        )
    if value == "." or value.startswith(".."):
        raise ValueError("the model registry refuses a name that is '.' or starts with '..'")
    return value


def _check_spec_name(value: str) -> str:
    _check_name(value)
    if not _SPEC_NAME.fullmatch(value):
        raise ValueError("use lowercase letters, digits and '-' (not at the start or end)")
    return value


def _check_target_name(value: str) -> str:
    if not _TARGET_NAME.fullmatch(value) or len(value) > 32:
        raise ValueError("target names are lowercase letters, digits, '-' and '_' (at most 32)")
    return value


def _check_env_key(value: str) -> str:
    if not _ENV_KEY.fullmatch(value):
        raise ValueError("environment variable names are letters, digits and '_', not starting with a digit")
    return value


def _coerce_env_value(value: Any) -> Any:
    """YAML reads ``ALPHA: 0.5`` as a float; environment values are strings, so numbers become text."""
    if isinstance(value, bool):
        raise ValueError("true/false is ambiguous for an environment variable; quote it ('true')")
    if value is None:
        raise ValueError("no value; write '' for an empty value")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("environment values cannot contain a NUL character")
    return str(value) if isinstance(value, int | float) else value


def _empty_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _rel_path(what: str, allow_glob: bool = False) -> AfterValidator:
    return AfterValidator(lambda v: check_relative_path(v, what=what, allow_glob=allow_glob))


Name = Annotated[str, AfterValidator(_check_name)]
RegisteredName = Annotated[str, AfterValidator(_check_registered_name)]
SpecName = Annotated[str, AfterValidator(_check_spec_name)]
TargetName = Annotated[str, AfterValidator(_check_target_name)]
EnvKey = Annotated[str, AfterValidator(_check_env_key)]
EnvValue = Annotated[str, BeforeValidator(_coerce_env_value)]
Environment = Annotated[
    dict[EnvKey, EnvValue],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"pattern": _ENV_KEY.pattern},
            "additionalProperties": {"type": ["string", "number"]},
        }
    ),
]
Cpu = Annotated[float, Field(gt=0, le=128)]
MemoryGb = Annotated[float, Field(gt=0, le=1024)]
Gpus = Annotated[int, Field(ge=0, le=64)]
Seconds = Annotated[int, Field(gt=0, le=7 * 24 * 3600)]
MetricName = Annotated[str, AfterValidator(_check_name)]
RegisteredName = Annotated[str, AfterValidator(_check_registered_name)]


# --- base ---------------------------------------------------------------------------------------------


class SpecModel(BaseModel):
    """Base of every spec section: unknown keys are errors, no NaN/inf, secrets masked in repr."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, protected_namespaces=(), frozen=True)

    # field name -> None (mask the whole value) or the dict keys to mask; set by the loader.
    _masked: dict[str, set[str] | None] = PrivateAttr(default_factory=dict)

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name is None or name not in self._masked:
                yield name, value
                continue
            keys = self._masked[name]
            if value is None:
                yield name, value
            elif keys is not None and isinstance(value, dict):
                yield name, {k: (MASK if k in keys else v) for k, v in value.items()}
            else:
                yield name, MASK


# --- targets ------------------------------------------------------------------------------------------


class Target(SpecModel):
    """Where the spec is applied: the embedded local workspace or a CML workspace."""

    kind: str
    _name: str = PrivateAttr(default="")
    _where: tuple[str | None, int | None, int | None] = PrivateAttr(default=(None, None, None))
    _url_variables: list[str] = PrivateAttr(default_factory=list)

    @property
    def name(self) -> str:
        """The target's key under ``targets:``."""
        return self._name

    @property
    def is_local(self) -> bool:
        return self.kind == "local"

    def require_url(self) -> str:
        """The workspace URL, or a SpecError saying how to set it (URLs are checked lazily: an unused
        ``cml`` target with ``url: ${CML_URL:-}`` must not stop a local run)."""
        file, line, column = self._where
        raise SpecError(
            f"target '{self.name}' is the embedded local workspace and has no URL",
            file=file,
            line=line,
            column=column,
            field=f"targets.{self.name}",
            hint="cmlops starts the local workspace itself; use a target of kind cml for a CML URL",
        )


class LocalTarget(Target):
    """The embedded local workspace (a loopback server speaking the CML API v2 subset). Always present."""

    kind: Literal["local"] = Field(description="`local`: the embedded local workspace.")
    state_dir: Annotated[str, _rel_path("state_dir")] = Field(
        default=".cmlops",
        description="Folder (relative to the repo root) holding the local workspace's state: SQLite, "
        "MLflow store, project folders, logs.",
    )


class CmlTarget(Target):
    """A Cloudera Machine Learning workspace reached through its REST API v2."""

    kind: Literal["cml"] = Field(description="`cml`: a CML workspace reached over HTTPS.")
    url: Annotated[str | None, BeforeValidator(_empty_to_none)] = Field(
        default=None,
        description="Workspace URL, e.g. https://ml-1234.cloudera.site. May be empty (for example "
        "`${CML_URL:-}`) as long as this target is not used.",
    )
    api_key: Annotated[SecretStr | None, BeforeValidator(_empty_to_none)] = Field(
        default=None,
        description="API v2 key. Must be a reference such as `${env:CML_API_KEY}`, never the key itself. "
        "Optional: cmlops settings also read CML_API_KEY / CDSW_APIV2_KEY.",
    )
    ca_bundle: Annotated[str | None, BeforeValidator(_empty_to_none)] = Field(
        default=None,
        description="PEM file of CA certificates to trust for TLS (absolute, or relative to the repo "
        "root); null uses the system store.",
    )
    verify_tls: bool = Field(default=True, description="Verify the workspace's TLS certificate. Keep true.")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "://" not in value:
            raise ValueError("the URL has no scheme; write it as https://<workspace domain>")
        try:
            parts = urlsplit(value)
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            raise ValueError("the URL is malformed") from None
        if parts.scheme not in ("https", "http") or not parts.hostname or not port_ok:
            raise ValueError("the URL must look like https://<workspace domain>")
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
            raise ValueError("the URL must use https (http is accepted for loopback addresses only)")
        if parts.username or parts.password:
            raise ValueError("the URL contains credentials; put the key in api_key as ${env:NAME}")
        if parts.query or parts.fragment:
            raise ValueError("the URL must not have a query or fragment")
        return value.rstrip("/")

    @field_validator("ca_bundle")
    @classmethod
    def _check_ca_bundle(cls, value: str | None) -> str | None:
        if value is not None and ("\x00" in value or ".." in value.replace("\\", "/").split("/")):
            raise ValueError("the ca_bundle path must not contain '..' or NUL")
        return value

    def require_url(self) -> str:
        if self.url:
            return self.url
        file, line, column = self._where
        if self._url_variables:
            names = ", ".join(self._url_variables)
            hint = f"the url comes from {names}: export {self._url_variables[0]}=https://<workspace domain>"
        else:
            hint = f"write url: https://<workspace domain> under targets.{self.name}"
        raise SpecError(
            f"target '{self.name}' has no url", file=file, line=line, column=column,
            field=f"targets.{self.name}.url", hint=hint,
        )  # fmt: skip


AnyTarget = Annotated[LocalTarget | CmlTarget, Field(discriminator="kind")]


# --- runtime, projects --------------------------------------------------------------------------------


class Runtime(SpecModel):
    """The ML Runtime jobs and model builds use: an exact image identifier, or editor/kernel/edition
    (cmlops then picks the newest enabled runtime matching all three)."""

    editor: Name = Field(default="Workbench", description="Runtime editor, e.g. Workbench, JupyterLab.")
    kernel: Name = Field(default="Python 3.10", description="Runtime kernel, e.g. Python 3.10.")
    edition: Name = Field(default="Standard", description="Runtime edition, e.g. Standard.")
    identifier: Annotated[str | None, BeforeValidator(_empty_to_none)] = Field(
        default=None,
        description="Exact runtime image identifier (docker.repository.cloudera.com/...); when set, "
        "editor/kernel/edition must not be given.",
    )
    addons: list[Name] = Field(
        default_factory=list,
        description="Runtime add-ons the training job needs (Spark), by identifier or display name as "
        "GET /api/v2/runtimeaddons lists them, e.g. 'Spark 3.5.1 - CDE 1.24.1 - HOTFIX-1'. The local "
        "workspace has none.",
    )

    @model_validator(mode="after")
    def _identifier_alone(self) -> Runtime:
        given = self.model_fields_set & {"editor", "kernel", "edition"}
        if self.identifier is not None and given:
            raise ValueError(f"give either identifier or {'/'.join(sorted(given))}, not both")
        return self


class Source(SpecModel):
    """Where the DEV project's files come from: a git repository, or files uploaded from this repo."""

    git_url: Annotated[str | None, BeforeValidator(_empty_to_none)] = Field(
        default=None, description="Repository CML clones when it creates the project (https or ssh)."
    )
    git_ref: Annotated[str | None, BeforeValidator(_empty_to_none)] = Field(
        default=None, description="Branch, tag or commit to check out (with git_url only)."
    )
    files: list[Annotated[str, _rel_path("glob", allow_glob=True)]] | None = Field(
        default=None,
        description="Globs relative to the repo root (e.g. code/**/*.py); matching files are uploaded "
        "into the project.",
    )

    @field_validator("git_url")
    @classmethod
    def _check_git_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "://" in value:
            try:
                parts = urlsplit(value)
                _ = parts.port
            except ValueError:
                raise ValueError("git_url is malformed") from None
            if parts.scheme not in ("https", "http", "ssh", "git") or not parts.hostname:
                raise ValueError("git_url must be an https://, ssh:// or git@host:path URL")
            if parts.password:
                raise ValueError(
                    "git_url contains a password or token; use an SSH URL or a credential helper"
                )
        elif not re.fullmatch(r"[\w.-]+@[\w.-]+:\S+", value):
            raise ValueError("git_url must be an https://, ssh:// or git@host:path URL")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Source:
        if (self.git_url is None) == (self.files is None):
            raise ValueError("give exactly one of git_url or files")
        if self.files is not None and not self.files:
            raise ValueError("files must list at least one glob")
        if self.git_ref is not None and self.git_url is None:
            raise ValueError("git_ref needs git_url")
        return self


class Project(SpecModel):
    """A CML project: a workspace folder with its own jobs, experiments and models."""

    name: Name = Field(description="Project name in the workspace (cmlops finds the project by it).")
    description: str = Field(default="", max_length=2000, description="Project description.")
    source: Source | None = Field(
        default=None, description="Where the project's files come from; omit for a blank project."
    )
    environment: Environment = Field(
        default_factory=dict, description="Project environment variables (name -> value)."
    )


class Projects(SpecModel):
    """The two projects of the loop: DEV trains and tracks experiments, PRD serves the model."""

    dev: Project = Field(description="The DEV project: holds the training job and its experiment.")
    prd: Project = Field(description="The PRD project: holds the model endpoint (usually blank).")

    @model_validator(mode="after")
    def _dev_has_source(self) -> Projects:
        if self.dev.source is None:
            raise ValueError("projects.dev needs a source (git_url or files): the training job runs from it")
        if self.dev.name == self.prd.name:
            raise ValueError("projects.dev and projects.prd must have different names")
        return self


# --- training, model, deployment ----------------------------------------------------------------------


class Job(SpecModel):
    """The CML job that trains the model in the DEV project and logs it to MLflow."""

    name: Name = Field(description="Job name in the DEV project.")
    script: Annotated[str, _rel_path("script")] = Field(
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
    script: Annotated[str, _rel_path("script")] = Field(
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


class Select(SpecModel):
    """Which experiment run's model becomes the candidate version."""

    strategy: Literal["latest", "best"] = Field(
        default="latest",
        description="`latest`: the newest finished run that logged the model; `best`: the best by metric.",
    )
    metric: Annotated[str | None, BeforeValidator(_empty_to_none)] = Field(
        default=None, description="Metric ranking runs; required when strategy is best."
    )
    order: Literal["min", "max"] = Field(default="min", description="`min` when lower is better (rmse).")

    @model_validator(mode="after")
    def _metric_for_best(self) -> Select:
        if self.strategy == "best" and not self.metric:
            raise ValueError("strategy best needs a metric (e.g. metric: rmse)")
        return self


class Threshold(SpecModel):
    """A gate: the candidate's metric must be within [min, max]."""

    metric: MetricName = Field(description="Metric logged by the training run, e.g. rmse.")
    min: float | None = Field(default=None, description="Lowest acceptable value (inclusive).")
    max: float | None = Field(default=None, description="Highest acceptable value (inclusive).")

    @model_validator(mode="after")
    def _bounds(self) -> Threshold:
        if self.min is None and self.max is None:
            raise ValueError("a threshold needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class NoWorseThanPrd(SpecModel):
    """A gate comparing the candidate with the model currently serving in PRD."""

    metric: MetricName = Field(description="Metric compared between candidate and PRD model.")
    higher_is_better: bool = Field(default=False, description="true for r2-like metrics.")
    tolerance: float = Field(
        default=0.0, ge=0, description="How much worse (absolute) the candidate may be and still pass."
    )


class Gates(SpecModel):
    """Checks a candidate must pass before anything is built in PRD."""

    thresholds: list[Threshold] = Field(default_factory=list, description="Metric bounds.")
    no_worse_than_prd: NoWorseThanPrd | None = Field(
        default=None, description="Refuse a candidate worse than the PRD model (skipped when PRD is empty)."
    )


class ModelSpec(SpecModel):
    """The registered model: which run's artifact is registered, under which name, and its gates."""

    registered_name: RegisteredName = Field(
        description="Name in the workspace model registry (no '/', ':', quotes, backticks or backslashes)."
    )
    artifact_path: Annotated[str, _rel_path("artifact_path")] = Field(
        default="model", description="Artifact path the training run logged the MLflow model under."
    )
    select: Select = Field(default_factory=Select, description="How the candidate run is picked.")
    gates: Gates = Field(default_factory=Gates, description="Promotion gates.")


class SmokeExpect(SpecModel):
    """What the smoke prediction must look like."""

    count: int | None = Field(default=None, ge=0, description="Number of predictions expected.")
    min: float | None = Field(default=None, description="Every prediction must be >= min.")
    max: float | None = Field(default=None, description="Every prediction must be <= max.")

    @model_validator(mode="after")
    def _bounds(self) -> SmokeExpect:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class Smoke(SpecModel):
    """A prediction made right after deployment to prove the endpoint serves."""

    input: dict[str, Any] = Field(
        description='The JSON object sent as "request" to the endpoint, e.g. {"input": [[7.4, ...]]}.'
    )
    expect: SmokeExpect = Field(default_factory=SmokeExpect, description="Checks on the response.")

    @field_validator("input")
    @classmethod
    def _json_only(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            json.dumps(value, allow_nan=False)
        except (ValueError, TypeError):
            raise ValueError("input must be plain JSON (no NaN or infinity)") from None
        return value


class Deployment(SpecModel):
    """The model endpoint in the PRD project: built from the registered version and deployed."""

    model_name: Name = Field(description="Name of the CML model (endpoint) in the PRD project.")
    description: str = Field(default="", max_length=2000, description="Model description.")
    auth: bool = Field(
        default=True,
        description="Require a key to call the endpoint (CML: disable_authentication = not auth).",
    )
    cpu: Cpu = Field(default=1.0, description="vCPUs per replica (> 0).")
    memory: MemoryGb = Field(default=2.0, description="Memory in GB per replica (> 0).")
    gpus: Gpus = Field(default=0, description="NVIDIA GPUs per replica (>= 0).")
    replicas: int = Field(default=1, ge=1, le=9, description="Replicas serving the endpoint (1..9).")
    environment: Environment = Field(default_factory=dict, description="Deployment environment variables.")
    smoke: Smoke | None = Field(default=None, description="The smoke test run after deploying.")
    staging_model: Name | None = Field(
        default=None,
        description="A CML model in the PRD project where promote and rollback first build, deploy and "
        "smoke-test the candidate, before it takes live traffic on model_name (created when missing; "
        "its deployment is stopped afterwards). Null: the candidate is deployed straight into "
        "model_name and smoke-tested there.",
    )


class Timeouts(SpecModel):
    """How long cmlops waits for each kind of step, in seconds."""

    project: Seconds = Field(default=600, description="Project creation (git clone or upload).")
    job_run: Seconds = Field(
        default=1800, description="A training job run to finish (at least training.job.timeout is used)."
    )
    registry: Seconds = Field(default=600, description="A registered model version to become ready.")
    build: Seconds = Field(default=1800, description="A model build to be built.")
    deployment: Seconds = Field(default=1200, description="A model deployment to be deployed.")


def _check_version(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("version must be the number 1")
    if str(value).strip() != "1":
        raise ValueError("unsupported spec version; this cmlops reads version: 1")
    return 1


class Spec(SpecModel):
    """A cmlops spec: projects, training, model, gates and deployment for one ML use case."""

    version: Annotated[
        int,
        BeforeValidator(_check_version),
        WithJsonSchema({"const": 1, "type": "integer"}),
    ] = Field(description="Spec format version; only 1 exists.")
    name: SpecName = Field(description="Name of this use case ([a-z0-9-]), used in messages.")
    targets: dict[TargetName, AnyTarget] = Field(
        default_factory=dict,
        validate_default=True,
        description="Workspaces the spec can be applied to, by name; a `local` target always exists.",
    )
    runtime: Runtime = Field(default_factory=Runtime, description="ML Runtime for jobs and builds.")
    projects: Projects = Field(description="The DEV and PRD projects.")
    training: Training = Field(description="The training job and its experiment.")
    model: ModelSpec = Field(description="The registered model and its promotion gates.")
    deployment: Deployment = Field(description="The PRD model endpoint and its smoke test.")
    timeouts: Timeouts = Field(default_factory=Timeouts, description="Wait timeouts per step (seconds).")

    _file: str = PrivateAttr(default="<spec>")
    _source_path: Path | None = PrivateAttr(default=None)
    _repo_root: Path | None = PrivateAttr(default=None)
    _keys: dict[FieldPath, tuple[int, int]] = PrivateAttr(default_factory=dict)
    _values: dict[FieldPath, tuple[int, int]] = PrivateAttr(default_factory=dict)
    _secret_paths: frozenset[FieldPath] = PrivateAttr(default_factory=frozenset)

    @field_validator("targets", mode="after")
    @classmethod
    def _implicit_local(cls, value: dict[str, Target]) -> dict[str, Target]:
        if "local" in value and not value["local"].is_local:
            raise ValueError("the target named 'local' must be of kind local")
        targets = dict(value)
        targets.setdefault("local", LocalTarget(kind="local"))
        for name, target in targets.items():
            target._name = name
        return targets

    # --- helpers for the rest of cmlops -------------------------------------------------------------

    @property
    def source_path(self) -> Path | None:
        """The spec file (absolute) when loaded from a file."""
        return self._source_path

    @property
    def repo_root(self) -> Path:
        """The folder every relative path of the spec is resolved against."""
        return self._repo_root if self._repo_root is not None else Path.cwd()

    @property
    def job_run_timeout(self) -> int:
        """Seconds to wait for a training run: never less than the job's own kill timeout."""
        return max(self.timeouts.job_run, self.training.job.timeout)

    def target(self, name: str) -> Target:
        """The target called ``name``; a SpecError listing the known targets otherwise."""
        if name in self.targets:
            return self.targets[name]
        import difflib

        known = sorted(self.targets)
        close = difflib.get_close_matches(name, known, n=1)
        hint = (f"did you mean '{close[0]}'? " if close else "") + f"known targets: {', '.join(known)}"
        line, column = self.locate(("targets",), key=True)
        raise SpecError(f"unknown target '{name}'", file=self._file, line=line, column=column, hint=hint)

    def locate(self, path: FieldPath, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of a field path such as ("deployment", "cpu"); its nearest written
        ancestor when the field was not written; (1, 1) for a spec not read from YAML."""
        table = self._keys if key else self._values
        while path:
            if path in table:
                return table[path]
            if path in self._keys:
                return self._keys[path]
            path = path[:-1]
            table = self._keys
        return (1, 1)

    def error(
        self, path: FieldPath, message: str, *, hint: str | None = None, key: bool = False
    ) -> SpecError:
        """A SpecError located at ``path`` in this spec's file, for problems found after loading."""
        from automation.spec.yamlload import dotted

        line, column = self.locate(path, key=key)
        return SpecError(message, file=self._file, line=line, column=column, field=dotted(path), hint=hint)

    def is_secret(self, path: FieldPath) -> bool:
        """Whether the value at ``path`` came from a ``${env:...}`` reference."""
        return path in self._secret_paths

    def secret_values(self) -> list[str]:
        """The resolved values of every ``${env:...}`` field (for output filters; never print them)."""
        data = self.model_dump(mode="python")
        found: list[str] = []
        for path in self._secret_paths:
            node: Any = data
            for part in path:
                node = child(node, part)
            if hasattr(node, "get_secret_value"):
                node = node.get_secret_value()
            if isinstance(node, str) and node:
                found.append(node)
        return found

    def model_dump_public(self) -> dict[str, Any]:
        """JSON-ready dump safe to print: SecretStr fields and every ``${env:...}`` value are masked."""
        data = self.model_dump(mode="json")
        for path in self._secret_paths:
            _mask_path(data, path)
        return data


def _mask_path(data: Any, path: FieldPath) -> None:
    """Replace the value at ``path`` inside dumped data by the mask (a no-op if the path is absent)."""
    if not path:
        return
    node = data
    for part in path[:-1]:
        node = child(node, part)
    if child(node, path[-1]) not in (ABSENT, None):
        node[path[-1]] = MASK


def mark_secrets(spec: Spec, secret_paths: set[FieldPath]) -> None:
    """Record on each nested model which of its fields hold a secret, so ``repr`` masks them."""
    spec._secret_paths = frozenset(secret_paths)
    for path in secret_paths:
        model: BaseModel = spec
        i = 0
        while i < len(path) - 1:
            nxt = getattr(model, str(path[i]), None) if isinstance(path[i], str) else None
            rest = path[i + 1 :]
            if isinstance(nxt, dict) and rest and rest[0] in nxt and isinstance(nxt[rest[0]], BaseModel):
                model, i = nxt[rest[0]], i + 2
            elif isinstance(nxt, list) and rest and isinstance(rest[0], int) and rest[0] < len(nxt):
                if not isinstance(nxt[rest[0]], BaseModel):
                    break
                model, i = nxt[rest[0]], i + 2
            elif isinstance(nxt, BaseModel):
                model, i = nxt, i + 1
            else:
                break
        if not isinstance(model, SpecModel) or i >= len(path) or not isinstance(path[i], str):
            continue
        name = str(path[i])
        rest = path[i + 1 :]
        value = getattr(model, name, None)
        if len(rest) == 1 and isinstance(value, dict) and isinstance(rest[0], str):
            current = model._masked.get(name, set())
            if current is not None:
                model._masked[name] = current | {rest[0]}
        else:
            model._masked[name] = None
