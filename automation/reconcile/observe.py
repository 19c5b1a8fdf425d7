"""Read the workspace: what exists of everything the spec describes. Reads only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from automation.api import CMLClient
from automation.api.jobs import RUN_ACTIVE
from automation.api.models import DEPLOY_ACTIVE
from automation.api.types import (
    Application,
    Experiment,
    ExperimentRun,
    Job,
    JobRun,
    Model,
    ModelBuild,
    ModelDeployment,
    Project,
    RegisteredModel,
    RegisteredModelVersion,
)
from automation.errors import InputError
from automation.reconcile.desired import matches
from automation.reconcile.selection import rejected_runs, select_run
from automation.reconcile.sources import application_files


@dataclass
class ModelObserved:
    """What exists of one registered model's chain: its job's runs, MLflow run, version, PRD endpoint."""

    job_name: str = ""  # the spec's job whose runs log the model
    last_success_run: JobRun | None = None
    active_run: JobRun | None = None
    experiment: Experiment | None = None
    mlflow_run: ExperimentRun | None = None
    registered: RegisteredModel | None = None
    version: RegisteredModelVersion | None = None
    model: Model | None = None
    build: ModelBuild | None = None
    deployment: ModelDeployment | None = None
    other_deployments: list[ModelDeployment] = field(default_factory=list)


@dataclass
class Observed:
    """A snapshot of the workspace, as far as the spec is concerned."""

    runtime_identifier: str | None = None  # the spec's default runtime, as resolved
    runtime_addons: list[str] = field(default_factory=list)  # identifiers of the spec's runtime.addons
    runtimes: dict[str, tuple[str | None, list[str]]] = field(
        default_factory=dict
    )  # workload key -> id, addons
    dev: Project | None = None
    prd: Project | None = None
    dev_files: dict[str, int] = field(default_factory=dict)  # path -> size, only the spec's folders
    prd_files: dict[str, int] = field(default_factory=dict)  # path -> size, the PRD applications' scripts
    prd_local: dict[str, int] = field(default_factory=dict)  # path -> size of those scripts here
    jobs: dict[str, Job | None] = field(default_factory=dict)
    applications: dict[str, Application | None] = field(default_factory=dict)
    models: dict[str, ModelObserved] = field(default_factory=dict)
    reads: int = 0

    def project(self, key: str) -> Project | None:
        return self.dev if key == "dev" else self.prd

    def runtime_of(self, workload_key: str) -> tuple[str | None, list[str]]:
        return self.runtimes.get(workload_key, (self.runtime_identifier, self.runtime_addons))

    def build_runtime(self, model_key: str) -> str | None:
        """The runtime a model's builds use: its training job's, the one the model was trained in
        (so a model whose job has a runtime of its own is not built in the spec's default)."""
        return self.runtime_of(f"job.{self.models[model_key].job_name}")[0]


class _Runtimes:
    """Resolves each distinct runtime of the spec once: (identifier, acceptable identifiers, add-ons)."""

    def __init__(self, client: CMLClient) -> None:
        self.client = client
        self.cache: dict[str, tuple[str, set[str], list[str]]] = {}

    def resolve(self, rt: Any) -> tuple[str, set[str], list[str]]:
        key = rt.model_dump_json()
        if key not in self.cache:
            acceptable: set[str] = set()
            if rt.identifier:
                if not self.client.runtimes.exists(rt.identifier):  # stop before anything is written
                    raise InputError(
                        f"runtime.identifier {rt.identifier!r} is not a runtime of this workspace",
                        hint="list them with `cmlops runtimes`, or give editor/kernel/edition instead",
                    )
                identifier = rt.identifier
            else:
                found = self.client.runtimes.matching(editor=rt.editor, kernel=rt.kernel, edition=rt.edition)
                identifier = found[0].image_identifier
                acceptable = {r.image_identifier for r in found}
            # Spark and other add-ons: resolved before anything is written (none exist locally: InputError)
            addons = self.client.runtime_addons.resolve(list(getattr(rt, "addons", None) or []))
            self.cache[key] = (identifier, acceptable, addons)
        return self.cache[key]


def observe(client: CMLClient, spec: Any, local_files: dict[str, bytes] | None = None) -> Observed:
    """Look up every resource of the spec; stop descending where a parent does not exist."""
    start_reads = client.http.stats.requests
    obs = Observed()
    runtimes = _Runtimes(client)
    obs.runtime_identifier, _, obs.runtime_addons = runtimes.resolve(spec.runtime)
    obs.dev = client.projects.find(spec.projects.dev.name)
    obs.prd = client.projects.find(spec.projects.prd.name)
    obs.prd_local = {path: len(data) for path, data in application_files(spec, "prd").items()}
    if obs.prd is not None and obs.prd_local:
        obs.prd_files = client.projects.file_sizes(obs.prd.id, obs.prd_local)
    obs.models = {name: ModelObserved(job_name=model.job) for name, model in spec.models.items()}
    if obs.dev is None:
        # On an empty workspace nothing else reads the registry before apply writes: find out now
        # whether it exists (RegistryUnavailable, exit 2), not after the projects are made.
        first = next(iter(spec.models))
        obs.models[first].registered = client.registry.find(first)
    for name, job in spec.jobs.items():
        found = client.jobs.find(obs.dev.id, name) if obs.dev is not None else None
        obs.jobs[name] = found
        identifier, acceptable, addons = runtimes.resolve(spec.runtime_of(job))
        if found is not None and found.runtime_identifier in acceptable:
            # A runtime released later must not force a retrain: keep the matching one in use.
            identifier = found.runtime_identifier
        obs.runtimes[f"job.{name}"] = (identifier, addons)
    _, default_ok, _ = runtimes.resolve(spec.runtime)
    trained = obs.jobs.get(next(iter(spec.models.values())).job)
    if trained is not None and trained.runtime_identifier in default_ok:
        # the default reported is the one the first model's training job already uses, while it matches
        obs.runtime_identifier = trained.runtime_identifier
    for name, app in spec.applications.items():
        project = obs.project(app.project)
        found = client.applications.find(project.id, name) if project is not None else None
        obs.applications[name] = found
        identifier, acceptable, addons = runtimes.resolve(spec.runtime_of(app))
        if found is not None and found.runtime_identifier in acceptable:
            identifier = found.runtime_identifier
        obs.runtimes[f"application.{name}"] = (identifier, addons)
    if obs.dev is not None:
        if local_files:
            obs.dev_files = client.projects.file_sizes(obs.dev.id, local_files)
        for model in spec.models.values():
            observe_training(client, spec, model, obs)
    if obs.prd is not None:
        for name, model in spec.models.items():
            observe_serving(client, model, obs.models[name], obs.prd.id)
    obs.reads = client.http.stats.requests - start_reads
    return obs


def observe_training(client: CMLClient, spec: Any, model: Any, obs: Observed) -> None:
    m = obs.models[model.registered_name]
    job = obs.jobs.get(model.job)
    if job is not None:
        for run in client.jobs.list_runs(obs.dev.id, job.id, sort="-created_at", limit=20):
            if run.status in RUN_ACTIVE and m.active_run is None and m.last_success_run is None:
                m.active_run = run
            if run.status == "ENGINE_SUCCEEDED":
                m.last_success_run = run
                break
    observe_candidate(client, model, m, obs.dev.id)


def observe_candidate(client: CMLClient, model: Any, m: ModelObserved, dev_id: str) -> None:
    """The MLflow run the model's ``select`` picks, and its registered version if any."""
    m.experiment = client.experiments.find(dev_id, model.experiment)
    m.registered = client.registry.find(model.registered_name)
    versions = client.registry.versions(m.registered.model_id) if m.registered and m.experiment else []
    m.mlflow_run = m.version = None
    if m.experiment is not None:
        runs = list(client.experiments.list_runs(dev_id, m.experiment.id, sort="-start_time", limit=50))
        # A version the training script registered itself names its run: that run logged the model,
        # and the version is the run's (no second one is registered, no second build made).
        # A run whose version a promotion rejected is never deployed again by apply.
        registered = {v.run_id for v in versions if v.run_id}
        m.mlflow_run = select_run(runs, model, dev_id, registered, rejected_runs(versions))
    if m.mlflow_run is not None:
        matching = [v for v in versions if v.run_id == m.mlflow_run.id]
        m.version = max(matching, key=lambda v: int(v.number), default=None)


def observe_serving(client: CMLClient, model: Any, m: ModelObserved, prd_id: str) -> None:
    ep = model.endpoint
    m.model = client.models.find(prd_id, ep.model_name)
    if m.model is None:
        return
    builds = list(client.models.list_builds(prd_id, m.model.id))
    m.build = None
    if m.version is not None:
        matching = [
            b
            for b in builds
            if b.registered_model_version_id == m.version.model_version_id
            and b.status.lower() not in ("build failed", "failed", "timedout")
            and not b.deletion_status
        ]
        matching.sort(key=lambda b: (b.status.lower() == "built", b.created_at), reverse=True)
        m.build = matching[0] if matching else None
    m.deployment = None
    m.other_deployments = []
    for build in builds:
        if build.status.lower() != "built" and (m.build is None or build.id != m.build.id):
            continue
        for dep in client.models.list_deployments(prd_id, m.model.id, build.id):
            if dep.status.lower() not in DEPLOY_ACTIVE:
                continue
            if m.build is not None and build.id == m.build.id and m.deployment is None and matches(dep, ep):
                m.deployment = dep
            else:
                m.other_deployments.append(dep)
