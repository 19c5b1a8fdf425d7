"""Which MLflow run is the candidate, and do its metrics pass the spec's gates. Pure functions."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from automation.api.types import ExperimentRun

FINISHED = {"EXPERIMENT_RUN_FINISHED", "FINISHED"}
ARTIFACT_TAG = "model_artifact_path"


def logged_model(run: ExperimentRun, artifact_path: str) -> bool:
    """A run counts when it finished and says it logged the model under the spec's artifact path."""
    return run.status in FINISHED and run.tags.get(ARTIFACT_TAG) == artifact_path


def select_run(runs: list[ExperimentRun], model_spec: Any) -> ExperimentRun | None:
    """Latest successful run that logged the model, or the best by a metric."""
    candidates = [r for r in runs if logged_model(r, model_spec.artifact_path)]
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
