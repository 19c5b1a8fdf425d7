"""What a promotion observes (the registry, what PRD serves, the gates) and what it reports.

Reads only; :mod:`automation.workflows.promote` acts on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from automation.api import CMLClient
from automation.api.models import DEPLOY_ACTIVE
from automation.api.types import (
    Model,
    ModelBuild,
    ModelDeployment,
    Project,
    RegisteredModel,
    RegisteredModelVersion,
)
from automation.errors import EXIT_OK, InputError, NotFound
from automation.reconcile.selection import GateResult, check_no_worse, check_thresholds

# -- what was observed --------------------------------------------------------------------------


@dataclass
class VersionRef:
    """A registered model version (or a run not registered yet) and its MLflow run's metrics."""

    number: int | None
    version_id: str | None
    run_id: str
    experiment_id: str = ""
    project_id: str = ""
    metrics: dict[str, float] | None = None
    metrics_error: str | None = None
    stage: str | None = None
    build_id: str | None = None
    deployment_id: str | None = None

    @property
    def label(self) -> str:
        return f"version {self.number}" if self.number is not None else f"run {self.run_id} (unregistered)"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ActiveDeployment:
    build: ModelBuild
    deployment: ModelDeployment

    @property
    def version_id(self) -> str:
        return self.build.registered_model_version_id


@dataclass
class PrdState:
    """The PRD model and its active deployments, the one serving first."""

    project: Project
    model: Model
    builds: list[ModelBuild]
    active: list[ActiveDeployment]

    def of_version(self, version_id: str | None) -> list[ActiveDeployment]:
        return [a for a in self.active if version_id and a.version_id == version_id]

    def others(self, version_id: str | None) -> list[ActiveDeployment]:
        return [a for a in self.active if not version_id or a.version_id != version_id]


@dataclass
class RegistryView:
    """The spec's registered model and all its versions (one paged read)."""

    registered: RegisteredModel | None
    versions: list[RegisteredModelVersion]

    @property
    def model_id(self) -> str | None:
        return self.registered.model_id if self.registered else None

    def by_id(self, version_id: str | None) -> RegisteredModelVersion | None:
        return next((v for v in self.versions if version_id and v.model_version_id == version_id), None)

    def by_number(self, number: int) -> RegisteredModelVersion | None:
        return next((v for v in self.versions if int(v.number) == number), None)

    def by_run(self, run_id: str) -> RegisteredModelVersion | None:
        matching = [v for v in self.versions if v.run_id == run_id]
        return max(matching, key=lambda v: int(v.number), default=None)


def load_registry(client: CMLClient, spec: Any) -> RegistryView:
    registered = client.registry.find(spec.model.registered_name)
    versions = client.registry.versions(registered.model_id) if registered else []
    return RegistryView(registered, versions)


def observe_prd(client: CMLClient, spec: Any) -> PrdState:
    """The PRD project, model and active deployments; refuses when PRD was never bootstrapped."""
    prd_name, model_name = spec.projects.prd.name, spec.deployment.model_name
    project = client.projects.find(prd_name)
    model = client.models.find(project.id, model_name) if project else None
    if project is None or model is None:
        missing = f"PRD project {prd_name!r}" if project is None else f"model {model_name!r} in {prd_name!r}"
        raise InputError(
            f"{missing} does not exist: promote only changes what an existing PRD endpoint serves",
            hint="create PRD first with `cmlops bootstrap SPEC` (or `cmlops apply SPEC`)",
        )
    builds = list(client.models.list_builds(project.id, model.id))
    active: list[ActiveDeployment] = []
    for build in builds:
        if build.status.lower() != "built" or build.deletion_status:
            continue
        for dep in client.models.list_deployments(project.id, model.id, build.id):
            if dep.status.lower() in DEPLOY_ACTIVE:
                active.append(ActiveDeployment(build, dep))
    active.sort(
        key=lambda a: (a.deployment.status.lower() == "deployed", a.deployment.created_at), reverse=True
    )
    return PrdState(project, model, builds, active)


def read_metrics(
    client: CMLClient, version: RegisteredModelVersion, fallback_project_id: Callable[[], str | None]
) -> tuple[dict[str, float] | None, str | None]:
    """The metrics of the MLflow run a version was registered from, or (None, why not)."""
    project_id = str(version.model_version_metadata.get("project_id") or "") or fallback_project_id()
    if not (version.run_id and version.experiment_id and project_id):
        return None, f"version {version.number} names no MLflow run (project, experiment and run id)"
    try:
        run = client.experiments.get_run(project_id, version.experiment_id, version.run_id)
    except NotFound:
        return None, f"MLflow run {version.run_id} of version {version.number} was not found"
    return run.metrics, None


def evaluate_gates(spec: Any, candidate: VersionRef, previous: VersionRef | None) -> list[GateResult]:
    """Thresholds and "no worse than PRD" on the candidate's metrics (fails closed, see module doc)."""
    metrics = candidate.metrics or {}
    gates = spec.model.gates
    results = check_thresholds(metrics, gates)
    rule = gates.no_worse_than_prd if gates else None
    if rule is not None and previous is not None and rule.metric not in (previous.metrics or {}):
        why = previous.metrics_error or f"its run has no {rule.metric!r} metric"
        results.append(
            GateResult(
                "no_worse_than_prd",
                rule.metric,
                metrics.get(rule.metric),
                f"PRD {previous.label} unknown: {why}",
                False,
            )
        )
    else:
        results += check_no_worse(metrics, previous.metrics if previous else None, gates)
    return results


# -- the report ---------------------------------------------------------------------------------


@dataclass
class Step:
    step: str
    status: str  # ok | failed | skipped | planned
    seconds: float = 0.0
    detail: str = ""


@dataclass
class PromotionReport:
    """Everything CI needs to know about one promote or rollback (``--report FILE``)."""

    action: str  # promote | rollback
    spec: str
    dry_run: bool = False
    candidate: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    gates: list[dict[str, Any]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    outcome: str = ""  # promoted | noop | refused | planned | failed
    failed_step: str | None = None
    rolled_back: bool = False
    git_commit: str | None = None
    started_at: str = ""
    finished_at: str = ""
    error: dict[str, Any] | None = None
    exit_code: int = EXIT_OK

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    @property
    def gates_passed(self) -> bool:
        return all(g["passed"] for g in self.gates)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["gates_passed"] = self.gates_passed
        return data
