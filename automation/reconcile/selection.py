"""Which MLflow run is the candidate, and do its metrics pass the spec's gates. Pure functions.

A run "logged the model" under the spec's ``artifact_path`` when MLflow itself says so, whatever
script logged it (README, "How cmlops finds the trained model"). Any one of these is enough:

* its artifacts (``data.files``) hold ``<artifact_path>/MLmodel``;
* its ``mlflow.log-model.history`` tag (set by MLflow 2.x ``log_model``) has an entry whose
  ``artifact_path`` is that path;
* a registered model version was made from that path of the run (``data.registered_model_metadata``
  names it as ``model_path``): MLflow 3 logs a model as a logged-model record outside the run's
  artifact folder, and registering it is what shows on the run;
* a version of the spec's registered model names the run as its source (the training script
  registered its own model with ``mlflow.register_model`` or ``log_model(registered_model_name=)``);
* cmlops' own tag ``model_artifact_path`` (older versions of code/02_Experiment_log_model.py).

A run tagged ``cml.project_id`` with another project is never a candidate, and where the workspace
marks the project's runs with that tag (the local workspace does), an unmarked run came from outside
any project and is not one either. CML lists only a project's own runs, marked or not.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any

from automation.api.types import ExperimentRun

FINISHED = {"EXPERIMENT_RUN_FINISHED", "FINISHED"}
# The promotion record's tag on registered versions (workflows/history.py writes it): a version whose
# smoke test, build or deployment failed in a promotion is ``stage=rejected`` and never a candidate.
STAGE_TAG = "stage"
REJECTED_STAGE = "rejected"
ARTIFACT_TAG = "model_artifact_path"
HISTORY_TAG = "mlflow.log-model.history"
PROJECT_TAG = "cml.project_id"


def _clean(path: str) -> str:
    return str(path).strip().strip("/").removeprefix("./")


def _history_paths(run: ExperimentRun) -> set[str]:
    """Artifact paths named by MLflow's log-model history tag (unreadable JSON names none)."""
    try:
        entries = json.loads(run.tags.get(HISTORY_TAG) or "[]")
    except ValueError:
        return set()
    if not isinstance(entries, list):
        return set()
    return {
        _clean(e.get("artifact_path") or "")
        for e in entries
        if isinstance(e, dict) and e.get("artifact_path")
    }


def model_evidence(
    run: ExperimentRun, artifact_path: str, registered_runs: Collection[str] = ()
) -> list[str]:
    """What says the run logged an MLflow model under ``artifact_path`` (empty: nothing does).
    ``registered_runs``: the source runs of the spec's registered model's versions."""
    want = _clean(artifact_path)
    found: list[str] = []
    files = run.data.get("files") or []
    if any(isinstance(f, dict) and _clean(f.get("path") or "") == f"{want}/MLmodel" for f in files):
        found.append(f"artifact {want}/MLmodel")
    if want in _history_paths(run):
        found.append(f"tag {HISTORY_TAG}")
    registered = run.data.get("registered_model_metadata") or []
    if any(isinstance(m, dict) and _clean(m.get("model_path") or "") == want for m in registered):
        found.append("a registered version from that path")
    if run.id in registered_runs:
        found.append("a version of the registered model")
    if ARTIFACT_TAG in run.tags and _clean(run.tags[ARTIFACT_TAG]) == want:
        found.append(f"tag {ARTIFACT_TAG}")
    return found


def logged_model(run: ExperimentRun, artifact_path: str, registered_runs: Collection[str] = ()) -> bool:
    """A run counts when it finished and MLflow records a model under the spec's artifact path."""
    return run.status in FINISHED and bool(model_evidence(run, artifact_path, registered_runs))


def of_project(runs: list[ExperimentRun], project_id: str | None) -> list[ExperimentRun]:
    """The runs that belong to ``project_id``: never one tagged with another project, nor an
    untagged one where the workspace tags this project's runs (it came from outside any project)."""
    if not project_id:
        return list(runs)
    marked = any(r.tags.get(PROJECT_TAG) == project_id for r in runs)
    return [r for r in runs if belongs(r, project_id, marked=marked)]


def belongs(run: ExperimentRun, project_id: str | None, *, marked: bool = False) -> bool:
    """Is the run the project's? ``marked``: the workspace tags this project's runs with its id."""
    tag = run.tags.get(PROJECT_TAG, "")
    return not project_id or tag == project_id or (not tag and not marked)


def select_run(
    runs: list[ExperimentRun],
    model_spec: Any,
    project_id: str | None = None,
    registered_runs: Collection[str] = (),
    rejected_runs: Collection[str] = (),
) -> ExperimentRun | None:
    """Latest successful run of the project that logged the model, or the best by a metric; runs in
    ``rejected_runs`` (their version was rejected by a promotion) are never picked."""
    path = model_spec.artifact_path
    candidates = [
        r
        for r in of_project(runs, project_id)
        if logged_model(r, path, registered_runs) and r.id not in rejected_runs
    ]
    if not candidates:
        return None
    select = model_spec.select
    if select.strategy == "best":
        scored = [r for r in candidates if select.metric in r.metrics]
        if not scored:
            return None
        sign = 1 if select.order == "min" else -1
        newest_first = sorted(scored, key=lambda r: r.start_time or "", reverse=True)
        return min(newest_first, key=lambda r: sign * r.metrics[select.metric])  # ties: the newest wins
    return max(candidates, key=lambda r: r.start_time or "")


def rejected_runs(versions: list[Any]) -> set[str]:
    """The MLflow runs behind versions a promotion rejected (``stage=rejected``)."""
    return {v.run_id for v in versions if v.run_id and v.tag_map.get(STAGE_TAG) == REJECTED_STAGE}


@dataclass
class GateResult:
    gate: str
    metric: str
    value: float | None
    threshold: str
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_thresholds(metrics: dict[str, float], gates: Any) -> list[GateResult]:
    """Absolute thresholds (min/max) on the candidate's metrics. A missing metric fails its gate."""
    results: list[GateResult] = []
    for t in (gates.thresholds if gates else None) or []:
        value = metrics.get(t.metric)
        if t.min is not None:
            ok = value is not None and value >= t.min
            results.append(GateResult("threshold", t.metric, value, f">= {t.min}", ok))
        if t.max is not None:
            ok = value is not None and value <= t.max
            results.append(GateResult("threshold", t.metric, value, f"<= {t.max}", ok))
    return results


def check_no_worse(
    candidate: dict[str, float], current: dict[str, float] | None, gates: Any
) -> list[GateResult]:
    """'No worse than the model now serving in PRD', within a tolerance. Passes when PRD serves nothing."""
    rule = getattr(gates, "no_worse_than_prd", None) if gates else None
    if rule is None:
        return []
    value = candidate.get(rule.metric)
    if current is None or rule.metric not in current:
        return [
            GateResult("no_worse_than_prd", rule.metric, value, "no model serving in PRD", value is not None)
        ]
    base = current[rule.metric]
    if rule.higher_is_better:
        bound = base - rule.tolerance
        ok = value is not None and value >= bound
        return [GateResult("no_worse_than_prd", rule.metric, value, f">= {bound:.6g} (PRD {base:.6g})", ok)]
    bound = base + rule.tolerance
    ok = value is not None and value <= bound
    return [GateResult("no_worse_than_prd", rule.metric, value, f"<= {bound:.6g} (PRD {base:.6g})", ok)]
