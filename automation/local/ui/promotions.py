"""The promotion history of each served model: a timeline of events, and gate metrics per version.

Events come from what the workspace keeps (builds, deployments) and from the promotion record
``cmlops promote`` writes onto registered versions (tags ``stage``, ``promoted_at``,
``archived_at``, ``rolled_back_at``, ``rejected_at``, ``gates``). The metrics plotted per version
are the gate metrics named in the ``gates`` tags, or, before any promotion, every metric of the
versions' MLflow runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from automation.local.core.problems import ApiProblem
from automation.local.domain.registry import versions_of
from automation.local.state import records
from automation.local.state.records import Build, Deployment, Model, Project
from automation.local.ui.charts import metric_chart

if TYPE_CHECKING:
    from automation.local.workspace import Workspace

MAX_CHARTS = 4
TAG_EVENTS = (
    ("promoted_at", "promoted to production"),
    ("archived_at", "archived (replaced)"),
    ("rolled_back_at", "rolled back from"),
    ("rejected_at", "rejected"),
)


@dataclass
class Event:
    at: float
    version: str
    what: str
    state: str = ""


@dataclass
class Timeline:
    model: str
    project: str
    registered: str
    events: list[Event] = field(default_factory=list)
    charts: list[Any] = field(default_factory=list)


def _epoch(text: str) -> float | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


def _gate_metrics(tags: dict[str, str]) -> list[str]:
    try:
        gates = json.loads(tags.get("gates") or "[]")
    except ValueError:
        return []
    return [str(g["metric"]) for g in gates if isinstance(g, dict) and g.get("metric")]


def project_names(ws: Workspace) -> dict[str, str]:
    """Project id -> name, for pages that show a project beside its models or applications."""
    return {p.id: p.name for p in records.load_all(ws.store, Project)}


def _versions_of_model(ws: Workspace, model: Model, builds: list[Build]) -> str:
    """The registered model a workspace model serves (from its builds, else its own field)."""
    for build in builds:
        try:
            return ws.mlflow.version_key(build.registered_model_version_id)[0]
        except ApiProblem:
            continue
    try:
        return ws.mlflow.model_name(model.registered_model_id or "")
    except ApiProblem:
        return ""


def _timeline(ws: Workspace, client: Any, model: Model, project: str) -> Timeline | None:
    builds = records.load_all(ws.store, Build, parent=model.id)
    if not builds:
        return None
    name = _versions_of_model(ws, model, builds)
    line = Timeline(model=model.name, project=project, registered=name)
    for build in builds:
        try:
            label = "v" + ws.mlflow.version_key(build.registered_model_version_id)[1]
        except ApiProblem:
            label = build.file_path or "file build"
        line.events.append(Event(build.created_at, label, "build", build.status))
        for dep in records.load_all(ws.store, Deployment, parent=build.id):
            line.events.append(Event(dep.created_at, label, "deployment", dep.status))
    if not name:
        line.events.sort(key=_newest_first, reverse=True)
        return line
    versions = sorted(versions_of(client, name), key=lambda v: int(v.version))
    metrics_by_version: dict[int, dict[str, float]] = {}
    gate_names: list[str] = []
    for mv in versions:
        tags = dict(mv.tags or {})
        for key, what in TAG_EVENTS:
            at = _epoch(tags.get(key, ""))
            if at is not None:
                line.events.append(Event(at, f"v{mv.version}", what, tags.get("stage", "")))
        gate_names += [m for m in _gate_metrics(tags) if m not in gate_names]
        if mv.run_id:
            try:
                metrics_by_version[int(mv.version)] = dict(client.get_run(mv.run_id).data.metrics)
            except Exception:  # the run was deleted: no point for this version
                metrics_by_version[int(mv.version)] = {}
    names = gate_names or sorted({k for m in metrics_by_version.values() for k in m})
    for metric in names[:MAX_CHARTS]:
        points = [(v, m[metric]) for v, m in sorted(metrics_by_version.items()) if metric in m]
        if points:
            line.charts.append(metric_chart(metric, points))
    line.events.sort(key=_newest_first, reverse=True)
    return line


def _newest_first(event: Event) -> tuple[float, bool]:
    """By time; a promotion tags two versions at one instant, and the one now in production leads."""
    return event.at, event.state == "production"


def timelines(ws: Workspace, client: Any) -> list[Timeline]:
    """One timeline per workspace model that was ever built (the served models)."""
    projects = project_names(ws)
    out = []
    for model in records.load_all(ws.store, Model):
        line = _timeline(ws, client, model, projects.get(model.project_id, model.project_id))
        if line is not None:
            out.append(line)
    return out
