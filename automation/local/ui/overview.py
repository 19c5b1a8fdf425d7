"""What the workspace page shows, read from the workspace's store and its MLflow store.

Each section is built on its own: a section that fails (the MLflow store still starting, a broken
document) carries an error message instead of its rows, and the others still show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from automation.local.core.problems import ApiProblem, unavailable
from automation.local.domain.registry import versions_of
from automation.local.state import records
from automation.local.state.mlflow_bridge import JOB_RUN_TAG
from automation.local.state.records import Application, Build, Deployment, Job, JobRun, Model, Project
from automation.local.ui.promotions import Timeline, project_names, timelines

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

RUNS_SHOWN = 5
MLFLOW_UI = "/mlflow/"
MLFLOW_WAIT = 2.0


@dataclass
class Section:
    rows: list[Any] = field(default_factory=list)
    error: str = ""


@dataclass
class Overview:
    projects: Section
    models: Section
    registry: Section
    applications: Section
    promotions: Section


def mlflow_run_link(experiment_id: str, run_id: str) -> str:
    return f"{MLFLOW_UI}#/experiments/{quote(experiment_id)}/runs/{quote(run_id)}"


def mlflow_version_link(name: str, version: int | str) -> str:
    return f"{MLFLOW_UI}#/models/{quote(name, safe='')}/versions/{quote(str(version))}"


def duration(start: float | None, end: float | None, now: float) -> float | None:
    if start is None:
        return None
    return max(0.0, (end if end is not None else now) - start)


def _section(build: Callable[[], list[Any]]) -> Section:
    try:
        return Section(rows=build())
    except ApiProblem as exc:
        return Section(error=exc.message)
    except Exception as exc:  # shown on the page instead of an empty panel
        return Section(error=f"{type(exc).__name__}: {exc}")


def mlflow_client(ws: Workspace) -> Any:
    """The MLflow client, without holding the page while MLflow loads after a server start."""
    if not ws.mlflow.wait_ready(timeout=MLFLOW_WAIT):
        raise unavailable("the MLflow store is still loading; this part fills in by itself in a few seconds")
    return ws.mlflow.client()


def _mlflow_runs_by_job_run(ws: Workspace) -> dict[str, list[dict[str, str]]]:
    """MLflow runs a job run created (its engine tagged them), by job run id."""
    client = mlflow_client(ws)
    experiments = [e.experiment_id for e in client.search_experiments(max_results=1000)]
    found: dict[str, list[dict[str, str]]] = {}
    if not experiments:
        return found
    for run in client.search_runs(experiments, filter_string=f"tags.`{JOB_RUN_TAG}` != ''", max_results=500):
        job_run = run.data.tags.get(JOB_RUN_TAG, "")
        found.setdefault(job_run, []).append(
            {
                "run_id": run.info.run_id,
                "name": run.info.run_name or run.info.run_id[:8],
                "link": mlflow_run_link(run.info.experiment_id, run.info.run_id),
                "metrics": ", ".join(f"{k}={v:.4g}" for k, v in sorted(run.data.metrics.items())),
            }
        )
    return found


def _projects(ws: Workspace, now: float) -> list[dict[str, Any]]:
    try:
        mlflow_runs = _mlflow_runs_by_job_run(ws)
    except ApiProblem:
        mlflow_runs = {}  # the runs still show, without their MLflow links
    out = []
    for project in records.load_all(ws.store, Project):
        jobs = []
        for job in records.load_all(ws.store, Job, parent=project.id):
            runs = records.load_all(ws.store, JobRun, parent=job.id)[-RUNS_SHOWN:][::-1]
            jobs.append(
                {
                    "id": job.id,
                    "name": job.name,
                    "script": job.script,
                    "runs": [
                        {
                            "id": r.id,
                            "status": r.status,
                            "created_at": r.created_at,
                            "duration": duration(r.running_at or r.starting_at, r.finished_at, now),
                            "log": f"/ui/logs/{r.id}",
                            "mlflow": mlflow_runs.get(r.id, []),
                        }
                        for r in runs
                    ],
                }
            )
        out.append({"id": project.id, "name": project.name, "jobs": jobs})
    return out


def _version_of(ws: Workspace, version_id: str) -> tuple[str, str] | None:
    """(registered model name, version number) of a registered version id, if known."""
    if not version_id:
        return None
    try:
        return ws.mlflow.version_key(version_id)
    except ApiProblem:
        return None


def _models(ws: Workspace) -> list[dict[str, Any]]:
    projects = project_names(ws)
    out = []
    for model in records.load_all(ws.store, Model):
        builds = []
        for build in records.load_all(ws.store, Build, parent=model.id)[::-1]:
            version = _version_of(ws, build.registered_model_version_id)
            builds.append(
                {
                    "id": build.id,
                    "status": build.status,
                    "created_at": build.created_at,
                    "version": f"{version[0]} v{version[1]}" if version else "",
                    "version_link": mlflow_version_link(*version) if version else "",
                    "failure": build.failure_reason,
                    "log": f"/ui/logs/{build.id}",
                    "deployments": [
                        {
                            "id": d.id,
                            "status": d.status,
                            "created_at": d.created_at,
                            "replicas": d.replicas,
                            "log": f"/ui/logs/{d.id}",
                        }
                        for d in records.load_all(ws.store, Deployment, parent=build.id)[::-1]
                    ],
                }
            )
        out.append(
            {
                "id": model.id,
                "name": model.name,
                "project": projects.get(model.project_id, model.project_id),
                "auth_enabled": model.auth_enabled,
                "serving": any(d["status"] == "deployed" for b in builds for d in b["deployments"]),
                "builds": builds,
            }
        )
    return out


def _served_by(ws: Workspace) -> dict[str, list[dict[str, str]]]:
    """Deployments that serve now, keyed by the registered version id their build loaded."""
    models = {m.id: m.name for m in records.load_all(ws.store, Model)}
    out: dict[str, list[dict[str, str]]] = {}
    for dep in records.load_all(ws.store, Deployment):
        if dep.status != "deployed":
            continue
        build = records.load(ws.store, Build, dep.build_id)
        version_id = build.registered_model_version_id if build else ""
        if version_id:
            out.setdefault(version_id, []).append(
                {"id": dep.id, "model": models.get(dep.model_id, dep.model_id)}
            )
    return out


def _registry(ws: Workspace) -> list[dict[str, Any]]:
    client = mlflow_client(ws)
    served = _served_by(ws)
    out = []
    for rm in client.search_registered_models(max_results=1000):
        versions = sorted(versions_of(client, rm.name), key=lambda v: -int(v.version))
        rows = []
        for mv in versions:
            version_id = ws.mlflow.version_public(mv.name, mv.version)
            rows.append(
                {
                    "number": int(mv.version),
                    "id": version_id,
                    "status": str(mv.status),
                    "link": mlflow_version_link(mv.name, mv.version),
                    "stage": (mv.tags or {}).get("stage", ""),
                    "served_by": served.get(version_id, []),
                }
            )
        out.append({"name": rm.name, "id": ws.mlflow.model_public(rm.name), "versions": rows})
    return out


def _applications(ws: Workspace) -> list[dict[str, Any]]:
    projects = project_names(ws)
    return [
        {
            "id": app.id,
            "name": app.name,
            "project": projects.get(app.project_id, app.project_id),
            "subdomain": app.subdomain,
            "status": app.status,
            "link": f"http://127.0.0.1:{app.port}/"
            if app.port and app.status == "APPLICATION_RUNNING"
            else "",
            "log": f"/ui/logs/{app.id}",
        }
        for app in records.load_all(ws.store, Application)
    ]


def _promotions(ws: Workspace) -> list[Timeline]:
    return timelines(ws, mlflow_client(ws))


def build_overview(ws: Workspace, now: float) -> Overview:
    return Overview(
        projects=_section(lambda: _projects(ws, now)),
        models=_section(lambda: _models(ws)),
        registry=_section(lambda: _registry(ws)),
        applications=_section(lambda: _applications(ws)),
        promotions=_section(lambda: _promotions(ws)),
    )


def endpoints(ws: Workspace) -> list[dict[str, str]]:
    """Models with a serving deployment: what the test box can call."""
    serving = {d.model_id for d in records.load_all(ws.store, Deployment) if d.status == "deployed"}
    return [{"id": m.id, "name": m.name} for m in records.load_all(ws.store, Model) if m.id in serving]
