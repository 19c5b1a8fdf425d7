"""The typed spec (version 2): one pydantic model per section of the YAML file.

Every field has a description because ``cmlops schema`` exports them for editors. Models forbid unknown
keys (the loader turns that into "unknown key ... did you mean ..."). Validators never echo the value
they refuse: it may have come from a ``${env:...}`` secret. A version 1 file is validated by
``automation.spec.v1`` and converted to this shape on load (``automation.spec.migrate``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PrivateAttr,
    SecretStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from automation.errors import SpecError
from automation.spec.fields import (
    MASK,
    Cpu,
    Environment,
    Gpus,
    MemoryGb,
    MetricName,
    Name,
    RegisteredName,
    Replicas,
    Seconds,
    SpecModel,
    SpecName,
    TargetName,
    empty_to_none,
    rel_path,
)
from automation.spec.overrides import Overrides, apply_override
from automation.spec.runtime import Runtime
from automation.spec.workloads import ApplicationSpec, JobSpec
from automation.spec.yamlload import ABSENT, FieldPath, child

_LOOPBACK = {"localhost", "127.0.0.1", "::1"}

# --- targets ------------------------------------------------------------------------------------------


class Target(SpecModel):
    """Where the spec is applied: the embedded local workspace or a CML workspace."""

    kind: str
    overrides: Overrides = Field(
        default_factory=Overrides,
        description="What changes on this target: resources, environment variables, project names.",
    )
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
    state_dir: Annotated[str, rel_path("state_dir")] = Field(
        default=".cmlops",
        description="Folder (relative to the repo root) holding the local workspace's state: SQLite, "
        "MLflow store, project folders, logs.",
    )


class CmlTarget(Target):
    """A Cloudera Machine Learning workspace reached through its REST API v2."""

    kind: Literal["cml"] = Field(description="`cml`: a CML workspace reached over HTTPS.")
    url: Annotated[str | None, BeforeValidator(empty_to_none)] = Field(
        default=None,
        description="Workspace URL, e.g. https://ml-1234.cloudera.site. May be empty (for example "
        "`${CML_URL:-}`) as long as this target is not used.",
    )
    api_key: Annotated[SecretStr | None, BeforeValidator(empty_to_none)] = Field(
        default=None,
        description="API v2 key. Must be a reference such as `${env:CML_API_KEY}`, never the key itself. "
        "Optional: cmlops settings also read CML_API_KEY / CDSW_APIV2_KEY.",
    )
    ca_bundle: Annotated[str | None, BeforeValidator(empty_to_none)] = Field(
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


# --- projects ----------------------------------------------------------------------------------------


class Source(SpecModel):
    """Where the DEV project's files come from: a git repository, or files uploaded from this repo."""

    git_url: Annotated[str | None, BeforeValidator(empty_to_none)] = Field(
        default=None, description="Repository CML clones when it creates the project (https or ssh)."
    )
    git_ref: Annotated[str | None, BeforeValidator(empty_to_none)] = Field(
        default=None, description="Branch, tag or commit to check out (with git_url only)."
    )
    files: list[Annotated[str, rel_path("glob", allow_glob=True)]] | None = Field(
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


# --- models ------------------------------------------------------------------------------------------


class Select(SpecModel):
    """Which experiment run's model becomes the candidate version."""

    strategy: Literal["latest", "best"] = Field(
        default="latest",
        description="`latest`: the newest finished run that logged the model; `best`: the best by metric.",
    )
    metric: Annotated[str | None, BeforeValidator(empty_to_none)] = Field(
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


class Endpoint(SpecModel):
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
    replicas: Replicas = Field(default=1, description="Replicas serving the endpoint (1..9).")
    environment: Environment = Field(default_factory=dict, description="Deployment environment variables.")
    smoke: Smoke | None = Field(default=None, description="The smoke test run after deploying.")
    staging_model: Name | None = Field(
        default=None,
        description="A CML model in the PRD project where promote and rollback first build, deploy and "
        "smoke-test the candidate, before it takes live traffic on model_name (created when missing; "
        "its deployment is stopped afterwards). Null: the candidate is deployed straight into "
        "model_name and smoke-tested there.",
    )


class ModelSpec(SpecModel):
    """A registered model (its key under ``models:`` is its registry name): the job whose runs log it,
    how the candidate run is picked, the gates it must pass and its PRD endpoint."""

    job: Name = Field(description="The job whose runs log the model (a key of jobs).")
    experiment: Name = Field(
        description="MLflow experiment the job logs to (the DEV project's Experiments tab)."
    )
    artifact_path: Annotated[str, rel_path("artifact_path")] = Field(
        default="model", description="Artifact path the training run logged the MLflow model under."
    )
    select: Select = Field(default_factory=Select, description="How the candidate run is picked.")
    gates: Gates = Field(default_factory=Gates, description="Promotion gates.")
    endpoint: Endpoint = Field(description="The PRD model endpoint and its smoke test.")
    _registered_name: str = PrivateAttr(default="")

    @property
    def registered_name(self) -> str:
        """The model's name in the registry: its key under ``models:``."""
        return self._registered_name


class Timeouts(SpecModel):
    """How long cmlops waits for each kind of step, in seconds."""

    project: Seconds = Field(default=600, description="Project creation (git clone or upload).")
    job_run: Seconds = Field(
        default=1800,
        description="A training run to finish (at least the sum of the timeouts along its job chain).",
    )
    registry: Seconds = Field(default=600, description="A registered model version to become ready.")
    build: Seconds = Field(default=1800, description="A model build to be built.")
    deployment: Seconds = Field(default=1200, description="A model deployment to be deployed.")


def _check_v2(value: Any) -> int:
    """The version of a file the loader did not send to SpecV1 (``migrate.is_v1``): it must be 2."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("version must be the number 1 or 2")
    if str(value).strip() != "2":
        raise ValueError("unsupported spec version; this cmlops reads version: 1 and version: 2")
    return 2


class SpecBase(SpecModel):
    """What every spec version has: name, targets, runtime, the DEV/PRD projects and timeouts."""

    version: int = Field(description="Spec format version.")
    name: SpecName = Field(description="Name of this use case ([a-z0-9-]), used in messages.")
    targets: dict[TargetName, AnyTarget] = Field(
        default_factory=dict,
        validate_default=True,
        description="Workspaces the spec can be applied to, by name; a `local` target always exists.",
    )
    runtime: Runtime = Field(
        default_factory=Runtime,
        description="Default ML Runtime of jobs and apps (a model is built in its job's runtime).",
    )
    projects: Projects = Field(description="The DEV and PRD projects.")
    timeouts: Timeouts = Field(default_factory=Timeouts, description="Wait timeouts per step (seconds).")

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


class Spec(SpecBase):
    """A cmlops spec (version 2): a whole CML project as code — DEV/PRD projects, jobs, applications,
    registered models with their gates and PRD endpoints, and per-target overrides."""

    version: Annotated[
        Literal[2],
        BeforeValidator(_check_v2),
        WithJsonSchema({"const": 2, "type": "integer"}),
    ] = Field(description="Spec format version: 2 (version 1 files are still read).")
    jobs: dict[Name, JobSpec] = Field(
        default_factory=dict, description="CML jobs of the DEV project, by name (file order is kept)."
    )
    applications: dict[Name, ApplicationSpec] = Field(
        default_factory=dict, description="CML applications kept running, by name."
    )
    models: dict[RegisteredName, ModelSpec] = Field(
        description="Registered models, by registry name: the job logging each, its gates and PRD endpoint."
    )

    _file: str = PrivateAttr(default="<spec>")
    _source_path: Path | None = PrivateAttr(default=None)
    _repo_root: Path | None = PrivateAttr(default=None)
    _keys: dict[FieldPath, tuple[int, int]] = PrivateAttr(default_factory=dict)
    _values: dict[FieldPath, tuple[int, int]] = PrivateAttr(default_factory=dict)
    _secret_paths: frozenset[FieldPath] = PrivateAttr(default_factory=frozenset)
    _source_version: int = PrivateAttr(default=2)
    _written: dict[FieldPath, FieldPath] = PrivateAttr(default_factory=dict)  # v2 path -> v1 path

    @field_validator("models", mode="after")
    @classmethod
    def _name_models(cls, value: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
        if not value:
            raise ValueError("models must name at least one registered model")
        for name, model in value.items():
            model._registered_name = name
        return value

    # --- helpers for the rest of cmlops -------------------------------------------------------------

    @property
    def source_version(self) -> int:
        """The version written in the file (1: converted on load; `cmlops migrate` rewrites it)."""
        return self._source_version

    def model_named(self, name: str | None = None) -> ModelSpec:
        """The model registered as ``name``; with None, the only model (a SpecError when there are several)."""
        if name is None and len(self.models) == 1:
            return next(iter(self.models.values()))
        if name is not None and name in self.models:
            return self.models[name]
        import difflib

        known = list(self.models)
        close = difflib.get_close_matches(name, known, n=1) if name else []
        hint = (
            f"did you mean '{close[0]}'? " if close else ""
        ) + f"models: {', '.join(known)}; pass --model NAME"
        message = f"unknown model '{name}'" if name is not None else "the spec has several models"
        line, column = self.locate(("models",), key=True)
        raise SpecError(message, file=self._file, line=line, column=column, field="models", hint=hint)

    def ancestors(self, job: str) -> list[str]:
        """The jobs ``job`` follows through ``after``, root first (empty for a job with no parent)."""
        chain: list[str] = []
        current = self.jobs[job].after
        while current is not None and current not in chain and current in self.jobs:
            chain.append(current)
            current = self.jobs[current].after
        return chain[::-1]

    def job_timeout(self, job: str) -> int:
        """Seconds to wait for a run of ``job`` started from its chain's root: never less than the
        kill timeouts of every job along the chain, summed."""
        chain = [*self.ancestors(job), job]
        return max(self.timeouts.job_run, sum(self.jobs[name].timeout for name in chain))

    def runtime_of(self, workload: JobSpec | ApplicationSpec) -> Runtime:
        """The runtime a job or application runs in: its own, else the spec's."""
        return workload.runtime if workload.runtime is not None else self.runtime

    def for_target(self, name: str) -> Spec:
        """This spec as applied to target ``name``: its overrides merged (environments key by key,
        other fields replaced). File, positions and secrets are kept."""
        overrides = self.target(name).overrides
        if overrides.empty:
            return self
        projects = self.projects.model_copy(
            update={
                "dev": apply_override(self.projects.dev, overrides.projects.dev),
                "prd": apply_override(self.projects.prd, overrides.projects.prd),
            }
        )
        jobs = {key: apply_override(job, overrides.jobs.get(key)) for key, job in self.jobs.items()}
        apps = {
            key: apply_override(app, overrides.applications.get(key))
            for key, app in self.applications.items()
        }
        models = {key: apply_override(model, overrides.models.get(key)) for key, model in self.models.items()}
        merged = self.model_copy(
            update={"projects": projects, "jobs": jobs, "applications": apps, "models": models}
        )
        secrets = set(self._secret_paths)
        prefix = ("targets", name, "overrides")
        for path in self._secret_paths:
            if path[: len(prefix)] == prefix:  # a secret leaf of the overrides: where it lands
                secrets.add(path[len(prefix) :])
        mark_secrets(merged, secrets)
        return merged

    @property
    def source_path(self) -> Path | None:
        """The spec file (absolute) when loaded from a file."""
        return self._source_path

    @property
    def repo_root(self) -> Path:
        """The folder every relative path of the spec is resolved against."""
        return self._repo_root if self._repo_root is not None else Path.cwd()

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
            path = path[:-1]
            table = self._keys
        return (1, 1)

    def error(
        self, path: FieldPath, message: str, *, hint: str | None = None, key: bool = False
    ) -> SpecError:
        """A SpecError located at ``path`` in this spec's file, for problems found after loading."""

        line, column = self.locate(path, key=key)
        return SpecError(
            message, file=self._file, line=line, column=column, field=self.written_name(path), hint=hint
        )

    def written_name(self, path: FieldPath) -> str:
        """The dotted name of a field path as the file writes it: a version 1 file's own names (e.g.
        ``training.job.script`` for ``jobs.<name>.script``), so a message matches the line it cites."""
        from automation.spec.yamlload import dotted

        tail: FieldPath = ()
        while path:
            if path in self._written:
                return dotted(self._written[path] + tail)
            path, tail = path[:-1], (path[-1], *tail)
        return dotted(tail)

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
