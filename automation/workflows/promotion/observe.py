"""What a promotion reads before it decides: the registry, what PRD serves, the candidate and the
version it would replace, with their MLflow runs' metrics. Reads only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from automation.api import CMLClient
from automation.api.models import DEPLOY_ACTIVE
from automation.api.types import (
    ExperimentRun,
    Model,
    ModelBuild,
    ModelDeployment,
    Project,
    RegisteredModel,
    RegisteredModelVersion,
)
from automation.errors import InputError, NotFound
from automation.reconcile.selection import (
    FINISHED,
    PROJECT_TAG,
    belongs,
    logged_model,
    rejected_runs,
    select_run,
)
from automation.workflows import history as hist
from automation.workflows.promotion.report import VersionRef


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

    def label(self, active: ActiveDeployment) -> str:
        version = self.by_id(active.version_id)
        return f"version {version.number}" if version else f"build {active.build.id}"


@dataclass
class Situation:
    """Everything one decision needs, read once."""

    reg: RegistryView
    prd: PrdState
    cand: VersionRef
    previous: VersionRef | None  # what serves now (the primary of ``others``)
    others: list[ActiveDeployment]  # active deployments of other versions: stopped on success
    current: list[ActiveDeployment]  # active deployments of the candidate itself


def load_registry(client: CMLClient, model: Any) -> RegistryView:
    """The registered model ``model`` (a ModelSpec) and its versions."""
    registered = client.registry.find(model.registered_name)
    versions = client.registry.versions(registered.model_id) if registered else []
    return RegistryView(registered, versions)


def observe_prd(client: CMLClient, spec: Any, model_spec: Any) -> PrdState:
    """The PRD project, model and active deployments; refuses when PRD was never bootstrapped."""
    prd_name, model_name = spec.projects.prd.name, model_spec.endpoint.model_name
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


class Reader:
    """The reads of one promotion: versions as VersionRefs, the candidate, the version serving now."""

    def __init__(self, client: CMLClient, spec: Any, model: Any) -> None:
        self.client, self.spec, self.model = client, spec, model  # model: the ModelSpec promoted
        self._dev_id: str | None = None
        self._dev_looked_up = False

    def dev_project_id(self) -> str | None:
        if not self._dev_looked_up:
            dev = self.client.projects.find(self.spec.projects.dev.name)
            self._dev_id = dev.id if dev else None
            self._dev_looked_up = True
        return self._dev_id

    def ref(self, version: RegisteredModelVersion) -> VersionRef:
        metrics, why = read_metrics(self.client, version, self.dev_project_id)
        return VersionRef(
            number=int(version.number),
            version_id=version.model_version_id,
            run_id=version.run_id,
            experiment_id=version.experiment_id,
            project_id=str(version.model_version_metadata.get("project_id") or ""),
            metrics=metrics,
            metrics_error=why,
            stage=version.tag_map.get(hist.STAGE),
        )

    def run_ref(
        self, reg: RegistryView, run: ExperimentRun, project_id: str, experiment_id: str
    ) -> VersionRef:
        version = reg.by_run(run.id)
        if version is not None:
            ref = self.ref(version)
            ref.metrics, ref.metrics_error = run.metrics, None  # the run we already read
            return ref
        return VersionRef(None, None, run.id, experiment_id, project_id, run.metrics)

    def candidate(self, reg: RegistryView, *, version: int | None, run_id: str | None) -> VersionRef:
        """The version to promote: ``--version N``, ``--run-id ID`` or the spec's selection."""
        name = self.model.registered_name
        if version is not None:
            found = reg.by_number(version)
            if found is None:
                have = (
                    ", ".join(str(v.number) for v in sorted(reg.versions, key=lambda v: v.number)) or "none"
                )
                raise InputError(
                    f"--version {version}: registered model {name!r} has no version {version} (versions: {have})",
                    hint="list them with `cmlops history SPEC` or pick a run with --run-id",
                )
            return self.ref(found)
        dev_id = self.dev_project_id()
        experiment_name = self.model.experiment
        experiment = self.client.experiments.find(dev_id, experiment_name) if dev_id else None
        if experiment is None:
            raise InputError(
                f"no experiment {experiment_name!r} in DEV project {self.spec.projects.dev.name!r}",
                hint="train a model first: `cmlops apply SPEC` runs the training job",
            )
        run = (
            self._given_run(dev_id, experiment.id, run_id)
            if run_id is not None
            else self._selected_run(reg, dev_id, experiment.id)
        )
        if not logged_model(run, self.model.artifact_path) and reg.by_run(run.id) is None:
            raise InputError(
                f"run {run.id} did not log a model under {self.model.artifact_path!r}: its artifacts "
                f"hold no {self.model.artifact_path}/MLmodel and no log-model tag names that path",
                hint="pick a run that logged the model, e.g. mlflow.sklearn.log_model(model, "
                f"{self.model.artifact_path!r}), or set the model's artifact_path in the spec",
            )
        return self.run_ref(reg, run, dev_id, experiment.id)

    def _given_run(self, dev_id: str, experiment_id: str, run_id: str) -> ExperimentRun:
        experiment_name = self.model.experiment
        try:
            run = self.client.experiments.get_run(dev_id, experiment_id, run_id)
        except NotFound:
            raise InputError(
                f"--run-id {run_id}: no such run in experiment {experiment_name!r}",
                hint="copy the run id from the DEV project's Experiments tab",
            ) from None
        if run.status not in FINISHED:
            raise InputError(f"--run-id {run_id}: the run is {run.status}, not finished")
        if not belongs(run, dev_id):
            raise InputError(
                f"--run-id {run_id}: the run belongs to project {run.tags.get(PROJECT_TAG)!r}, "
                f"not to DEV project {self.spec.projects.dev.name!r}",
                hint="promote a run of the DEV project",
            )
        return run

    def _selected_run(self, reg: RegistryView, dev_id: str, experiment_id: str) -> ExperimentRun:
        runs = list(self.client.experiments.list_runs(dev_id, experiment_id, sort="-start_time", limit=50))
        registered = {v.run_id for v in reg.versions if v.run_id}
        run = select_run(runs, self.model, dev_id, registered, rejected_runs(reg.versions))
        if run is None:
            raise InputError(
                f"no finished run in experiment {self.model.experiment!r} logged the model under "
                f"{self.model.artifact_path!r}",
                hint="train a model first (`cmlops apply SPEC --retrain`), or pass --version N",
            )
        return run

    def previous(self, reg: RegistryView, others: list[ActiveDeployment]) -> VersionRef | None:
        """What serves now (when it is not the candidate), with its metrics for the gates."""
        if not others:
            return None
        primary = others[0]
        version = reg.by_id(primary.version_id)
        if version is not None:
            ref = self.ref(version)
        else:
            why = (
                f"build {primary.build.id} is not from registered model {self.model.registered_name!r}"
                if primary.version_id
                else f"build {primary.build.id} was not built from the model registry"
            )
            ref = VersionRef(None, primary.version_id or None, "", metrics=None, metrics_error=why)
        ref.build_id, ref.deployment_id = primary.build.id, primary.deployment.id
        return ref

    def situation(self, reg: RegistryView, prd: PrdState, cand: VersionRef) -> Situation:
        others = prd.others(cand.version_id)
        current = prd.of_version(cand.version_id)
        if current:
            cand.build_id, cand.deployment_id = current[0].build.id, current[0].deployment.id
        return Situation(reg, prd, cand, self.previous(reg, others), others, current)
