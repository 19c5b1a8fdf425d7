"""Experiments and experiment runs: which of MLflow's experiments and runs a project sees, as typed
values (``api/render.py`` gives them their API v2 shapes).

Project scoping: the tracking server tags every MLflow run a job run creates with
the tags ``cml.project_id`` and ``cml.job_run_id``. In CML every project has its own experiments;
MLflow's store has one namespace of names, so here an experiment is shown in every project that has
runs in it, and within a project only that project's runs (and untagged ones) are listed. Two
projects that log to the same experiment name therefore each see their own runs, as in CML.
Experiments that no job run touched (made from a shell against the same store) are visible in every
project, as in a single-user workspace. MLflow's empty ``Default`` experiment is hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from automation.local.core.listing import apply, parse_list_query
from automation.local.core.problems import not_found
from automation.local.core.shapes import short_user
from automation.local.state.mlflow_bridge import PROJECT_TAG, MlflowBridge, translate

T = TypeVar("T")

RUN_STATUS = {
    "RUNNING": "EXPERIMENT_RUN_RUNNING",
    "SCHEDULED": "EXPERIMENT_RUN_SCHEDULED",
    "FINISHED": "EXPERIMENT_RUN_FINISHED",
    "FAILED": "EXPERIMENT_RUN_FAILED",
    "KILLED": "EXPERIMENT_RUN_KILLED",
}
CREATOR_KEYS = ("creator.email", "creator.name", "creator.username")
EXPERIMENT_FILTER_KEYS = ("name", *CREATOR_KEYS)
EXPERIMENT_SORT_KEYS = ("name", "created_at", "updated_at", *CREATOR_KEYS)
RUN_FILTER_KEYS = ("name", "status", *CREATOR_KEYS)
RUN_SORT_KEYS = ("created_at", "name", "start_time", *CREATOR_KEYS)
DYNAMIC_PREFIXES = ("metrics.", "params.", "tags.")
_ALL = 50_000


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and the token of the next one ("" when it is the last)."""

    items: list[T]
    next_page_token: str


@dataclass(frozen=True)
class Experiment:
    """An MLflow experiment as a project sees it (``project_id`` "" for the workspace-wide listing)."""

    id: str  # its public id
    project_id: str
    entity: Any  # mlflow.entities.Experiment


@dataclass(frozen=True)
class ArtifactFile:
    path: str  # relative to the run's artifact root
    is_dir: bool
    file_size: int


@dataclass(frozen=True)
class RegisteredFrom:
    """A registered model version made from a run's model."""

    model_path: str
    model_name: str
    model_id: str
    model_version_id: str
    version_number: int
    run_id: str
    created_at: int | None  # epoch milliseconds


@dataclass(frozen=True)
class ExperimentRun:
    """An MLflow run with its public ids, its artifact files and the versions registered from it."""

    id: str
    experiment_id: str
    entity: Any  # mlflow.entities.Run
    files: list[ArtifactFile]
    registered: list[RegisteredFrom]


def _creator(_: Any, key: str) -> str:
    return short_user()[key.split(".", 1)[1]]


# --- experiments -------------------------------------------------------------------------------


def _all_experiments(client: Any) -> list[Any]:
    out: list[Any] = []
    token = None
    while True:
        page = client.search_experiments(max_results=1000, page_token=token)
        out.extend(page)
        token = page.token
        if not token:
            return out


def _projects_of(client: Any, experiment_ids: list[str]) -> dict[str, set[str]]:
    """For each experiment, the projects whose job runs logged to it."""
    if not experiment_ids:
        return {}
    runs = client.search_runs(
        experiment_ids, filter_string=f"tags.`{PROJECT_TAG}` LIKE '%'", max_results=_ALL
    )
    out: dict[str, set[str]] = {}
    for run in runs:
        owner = run.data.tags.get(PROJECT_TAG, "")
        if owner:
            out.setdefault(run.info.experiment_id, set()).add(owner)
    return out


def _sees(projects: dict[str, set[str]], exp: Any, project_id: str | None) -> bool:
    """May ``project_id`` see the experiment? (None: the workspace-wide listing sees everything.)"""
    users = projects.get(exp.experiment_id, set())
    return project_id is None or not users or project_id in users


def _visible(client: Any, project_id: str | None) -> list[Any]:
    experiments = _all_experiments(client)
    projects = _projects_of(client, [e.experiment_id for e in experiments])
    out = []
    for exp in experiments:
        if (
            exp.experiment_id == "0"
            and not projects.get("0")
            and not client.search_runs(["0"], max_results=1)
        ):
            continue
        if _sees(projects, exp, project_id):
            out.append(exp)
    return out


def _experiment(bridge: MlflowBridge, exp: Any, project_id: str | None) -> Experiment:
    return Experiment(bridge.experiment_public(exp.experiment_id), project_id or "", exp)


def _experiment_field(exp: Any, key: str) -> Any:
    if key == "name":
        return exp.name
    if key == "created_at":
        return exp.creation_time
    if key == "updated_at":
        return exp.last_update_time
    return _creator(exp, key)


def list_experiments(
    bridge: MlflowBridge, project_id: str | None, params: Mapping[str, str]
) -> Page[Experiment]:
    query = parse_list_query(params, filter_keys=EXPERIMENT_FILTER_KEYS, sort_keys=EXPERIMENT_SORT_KEYS)
    experiments = _visible(bridge.client(), project_id)
    page, token = apply(experiments, query, _experiment_field)
    return Page([_experiment(bridge, e, project_id) for e in page], token)


def find_experiment(bridge: MlflowBridge, project_id: str, experiment_id: str) -> Any:
    """The MLflow experiment behind a public (or raw MLflow) id, if ``project_id`` may see it."""
    client = bridge.client()
    ml_id = bridge.experiment_internal(experiment_id)
    try:
        exp = client.get_experiment(ml_id)
    except Exception as exc:
        raise translate(exc, "experiment", experiment_id) from None
    if exp is None or exp.lifecycle_stage == "deleted":
        raise not_found("experiment", experiment_id)
    if not _sees(_projects_of(client, [exp.experiment_id]), exp, project_id):
        raise not_found("experiment", experiment_id)
    return exp


def _of_project(run: Any, project_id: str | None) -> bool:
    """A project lists its own runs and the untagged ones (logged from outside any job run)."""
    return project_id is None or run.data.tags.get(PROJECT_TAG, "") in ("", project_id)


def get_experiment(bridge: MlflowBridge, project_id: str, experiment_id: str) -> Experiment:
    return _experiment(bridge, find_experiment(bridge, project_id, experiment_id), project_id)


# --- runs ----------------------------------------------------------------------------------------


def _run_field(run: Any, key: str) -> Any:
    if key == "name":
        return run.info.run_name
    if key == "status":
        return RUN_STATUS.get(run.info.status, run.info.status)
    if key in ("start_time", "created_at"):
        return run.info.start_time
    if key.startswith("metrics."):
        return run.data.metrics.get(key[len("metrics.") :])
    if key.startswith("params."):
        return run.data.params.get(key[len("params.") :])
    if key.startswith("tags."):
        return run.data.tags.get(key[len("tags.") :])
    return _creator(run, key)


def _registered_from(bridge: MlflowBridge, client: Any, run_id: str) -> list[RegisteredFrom]:
    out = []
    for mv in client.search_model_versions(f"run_id = '{run_id}'"):
        meta = bridge.store.id_meta("model_version", bridge.version_public(mv.name, mv.version))
        out.append(
            RegisteredFrom(
                model_path=meta.get("model_path", ""),
                model_name=mv.name,
                model_id=bridge.model_public(mv.name),
                model_version_id=bridge.version_public(mv.name, mv.version),
                version_number=int(mv.version),
                run_id=bridge.run_public(run_id),
                created_at=mv.creation_timestamp,
            )
        )
    return out


MAX_LISTED_FILES = 500


def run_files(client: Any, run_id: str) -> list[ArtifactFile]:
    """The run's artifacts, folders walked, paths relative to its artifact root (so a logged model
    shows up as ``<artifact_path>/MLmodel``, as in CML); at most MAX_LISTED_FILES."""
    files: list[ArtifactFile] = []
    folders: list[str | None] = [None]
    while folders and len(files) < MAX_LISTED_FILES:
        for item in client.list_artifacts(run_id, folders.pop(0)):
            files.append(ArtifactFile(item.path, bool(item.is_dir), int(item.file_size or 0)))
            if item.is_dir:
                folders.append(item.path)
    return files[:MAX_LISTED_FILES]


def _run(bridge: MlflowBridge, client: Any, run: Any) -> ExperimentRun:
    info = run.info
    try:
        files = run_files(client, info.run_id)
    except Exception:  # an unreadable artifact store must not hide the run
        files = []
    return ExperimentRun(
        id=bridge.run_public(info.run_id),
        experiment_id=bridge.experiment_public(info.experiment_id),
        entity=run,
        files=files,
        registered=_registered_from(bridge, client, info.run_id),
    )


def list_runs(
    bridge: MlflowBridge, project_id: str, experiment_id: str, params: Mapping[str, str]
) -> Page[ExperimentRun]:
    query = parse_list_query(
        params,
        filter_keys=RUN_FILTER_KEYS,
        sort_keys=RUN_SORT_KEYS,
        filter_prefixes=DYNAMIC_PREFIXES,
        sort_prefixes=DYNAMIC_PREFIXES,
    )
    exp = find_experiment(bridge, project_id, experiment_id)
    client = bridge.client()
    runs: list[Any] = []
    token = None
    while True:
        page = client.search_runs([exp.experiment_id], max_results=_ALL, page_token=token)
        runs.extend(r for r in page if _of_project(r, project_id))
        token = page.token
        if not token:
            break
    selected, next_token = apply(runs, query, _run_field)
    return Page([_run(bridge, client, r) for r in selected], next_token)


def find_run(bridge: MlflowBridge, project_id: str, experiment_id: str, run_id: str) -> Any:
    exp = find_experiment(bridge, project_id, experiment_id)
    client = bridge.client()
    ml_run = bridge.run_internal(run_id)
    try:
        run = client.get_run(ml_run)
    except Exception as exc:
        raise translate(exc, "experiment run", run_id) from None
    if (
        run.info.experiment_id != exp.experiment_id
        or run.info.lifecycle_stage == "deleted"
        or not _of_project(run, project_id)
    ):
        raise not_found("experiment run", run_id)
    return run


def get_run(bridge: MlflowBridge, project_id: str, experiment_id: str, run_id: str) -> ExperimentRun:
    run = find_run(bridge, project_id, experiment_id, run_id)
    return _run(bridge, bridge.client(), run)


def metric_history(
    bridge: MlflowBridge, project_id: str, experiment_id: str, run_id: str, metric_key: str
) -> list[Any]:
    """The metric's MLflow points, by step then time."""
    run = find_run(bridge, project_id, experiment_id, run_id)
    history = bridge.client().get_metric_history(run.info.run_id, metric_key)
    return sorted(history, key=lambda m: (m.step or 0, m.timestamp or 0))
