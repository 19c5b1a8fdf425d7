"""Read the workspace: what exists of everything the spec describes. Reads only."""

from __future__ import annotations

from dataclasses import dataclass, field

from automation.api import CMLClient
from automation.api.jobs import RUN_ACTIVE
from automation.api.models import DEPLOY_ACTIVE
from automation.api.types import (
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


@dataclass
class Observed:
    """A snapshot of the workspace, as far as the spec is concerned."""

    runtime_identifier: str | None = None
    runtime_addons: list[str] = field(default_factory=list)  # identifiers of the spec's runtime.addons
    dev: Project | None = None
    prd: Project | None = None
    dev_files: dict[str, int] = field(default_factory=dict)  # path -> size, only the spec's folders
    install_job: Job | None = None
    job: Job | None = None
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
    reads: int = 0


def observe(client: CMLClient, spec, local_files: dict[str, bytes] | None = None) -> Observed:
    """Look up every resource of the spec; stop descending where a parent does not exist."""
    start_reads = client.http.stats.requests
    obs = Observed()
    rt = spec.runtime
    acceptable: set[str] = set()
    if rt.identifier:
        if not client.runtimes.exists(rt.identifier):  # stop before anything is written
            raise InputError(
                f"runtime.identifier {rt.identifier!r} is not a runtime of this workspace",
                hint="list them with `cmlops runtimes`, or give editor/kernel/edition instead",
            )
        obs.runtime_identifier = rt.identifier
    else:
        found = client.runtimes.matching(editor=rt.editor, kernel=rt.kernel, edition=rt.edition)
        obs.runtime_identifier = found[0].image_identifier
        acceptable = {r.image_identifier for r in found}
    # Spark and other add-ons: resolved before anything is written (none exist locally: InputError)
    obs.runtime_addons = client.runtime_addons.resolve(list(getattr(rt, "addons", None) or []))

    obs.dev = client.projects.find(spec.projects.dev.name)
    obs.prd = client.projects.find(spec.projects.prd.name)
    if obs.dev is None:
        # On an empty workspace nothing else reads the registry before apply writes: find out now
        # whether it exists (RegistryUnavailable, exit 2), not after the projects are made.
        obs.registered = client.registry.find(spec.model.registered_name)
    if obs.dev is not None:
        if local_files:
            obs.dev_files = client.projects.file_sizes(obs.dev.id, local_files)
        observe_training(client, spec, obs)
        if obs.job is not None and obs.job.runtime_identifier in acceptable:
            # A runtime released later must not force a retrain: keep the matching one in use.
            obs.runtime_identifier = obs.job.runtime_identifier
    if obs.prd is not None:
        observe_serving(client, spec, obs)
    obs.reads = client.http.stats.requests - start_reads
    return obs


def observe_training(client: CMLClient, spec, obs: Observed) -> None:
    dev_id = obs.dev.id
    if spec.training.install is not None:
        obs.install_job = client.jobs.find(dev_id, spec.training.install.name)
    obs.job = client.jobs.find(dev_id, spec.training.job.name)
    if obs.job is not None:
        for run in client.jobs.list_runs(dev_id, obs.job.id, sort="-created_at", limit=20):
            if run.status in RUN_ACTIVE and obs.active_run is None and obs.last_success_run is None:
                obs.active_run = run
            if run.status == "ENGINE_SUCCEEDED":
                obs.last_success_run = run
                break
    observe_candidate(client, spec, obs)


def observe_candidate(client: CMLClient, spec, obs: Observed) -> None:
    """The MLflow run the spec selects, and its registered version if any."""
    obs.experiment = client.experiments.find(obs.dev.id, spec.training.experiment)
    obs.registered = client.registry.find(spec.model.registered_name)
    versions = client.registry.versions(obs.registered.model_id) if obs.registered and obs.experiment else []
    obs.mlflow_run = obs.version = None
    if obs.experiment is not None:
        runs = list(client.experiments.list_runs(obs.dev.id, obs.experiment.id, sort="-start_time", limit=50))
        # A version the training script registered itself names its run: that run logged the model,
        # and the version is the run's (no second one is registered, no second build made).
        # A run whose version a promotion rejected is never deployed again by apply.
        registered = {v.run_id for v in versions if v.run_id}
        obs.mlflow_run = select_run(runs, spec.model, obs.dev.id, registered, rejected_runs(versions))
    if obs.mlflow_run is not None:
        matching = [v for v in versions if v.run_id == obs.mlflow_run.id]
        obs.version = max(matching, key=lambda v: int(v.number), default=None)


def observe_serving(client: CMLClient, spec, obs: Observed) -> None:
    prd_id = obs.prd.id
    obs.model = client.models.find(prd_id, spec.deployment.model_name)
    if obs.model is None:
        return
    builds = list(client.models.list_builds(prd_id, obs.model.id))
    obs.build = None
    if obs.version is not None:
        matching = [
            b
            for b in builds
            if b.registered_model_version_id == obs.version.model_version_id
            and b.status.lower() not in ("build failed", "failed", "timedout")
            and not b.deletion_status
        ]
        matching.sort(key=lambda b: (b.status.lower() == "built", b.created_at), reverse=True)
        obs.build = matching[0] if matching else None
    obs.deployment = None
    obs.other_deployments = []
    for build in builds:
        if build.status.lower() != "built" and (obs.build is None or build.id != obs.build.id):
            continue
        for dep in client.models.list_deployments(prd_id, obs.model.id, build.id):
            if dep.status.lower() not in DEPLOY_ACTIVE:
                continue
            if (
                obs.build is not None
                and build.id == obs.build.id
                and obs.deployment is None
                and matches(dep, spec.deployment)
            ):
                obs.deployment = dep
            else:
                obs.other_deployments.append(dep)
