"""Gates and candidate selection on their boundaries, with exactly representable numbers.

Every value below is a dyadic fraction (0.5, 0.25, 0.125, ...), so "equal to the threshold" means
exactly equal in binary floating point and a boundary test cannot pass or fail by rounding.
"""

from __future__ import annotations

import pytest

from automation.api.types import ExperimentRun
from automation.reconcile.selection import (
    ARTIFACT_TAG,
    check_no_worse,
    check_thresholds,
    logged_model,
    select_run,
)
from automation.spec.models import Endpoint, Gates, ModelSpec, NoWorseThanPrd, Select, Threshold


def gates(*thresholds: Threshold, no_worse: NoWorseThanPrd | None = None) -> Gates:
    return Gates(thresholds=list(thresholds), no_worse_than_prd=no_worse)


def verdicts(results) -> list[tuple[str, bool]]:
    return [(r.threshold, r.passed) for r in results]


# --- absolute thresholds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "passed"), [(0.25, False), (0.4375, False), (0.5, True), (0.5625, True), (4.0, True)]
)
def test_min_threshold_is_inclusive(value: float, passed: bool) -> None:
    results = check_thresholds({"r2": value}, gates(Threshold(metric="r2", min=0.5)))
    assert verdicts(results) == [(">= 0.5", passed)]
    assert results[0].value == value and results[0].metric == "r2" and results[0].gate == "threshold"


@pytest.mark.parametrize(
    ("value", "passed"), [(0.25, True), (0.6875, True), (0.75, True), (0.8125, False), (8.0, False)]
)
def test_max_threshold_is_inclusive(value: float, passed: bool) -> None:
    results = check_thresholds({"rmse": value}, gates(Threshold(metric="rmse", max=0.75)))
    assert verdicts(results) == [("<= 0.75", passed)]


def test_min_and_max_on_one_metric_give_two_results_in_order() -> None:
    both = gates(Threshold(metric="m", min=0.25, max=0.75))
    assert verdicts(check_thresholds({"m": 0.25}, both)) == [(">= 0.25", True), ("<= 0.75", True)]
    assert verdicts(check_thresholds({"m": 0.75}, both)) == [(">= 0.25", True), ("<= 0.75", True)]
    assert verdicts(check_thresholds({"m": 0.125}, both)) == [(">= 0.25", False), ("<= 0.75", True)]
    assert verdicts(check_thresholds({"m": 0.875}, both)) == [(">= 0.25", True), ("<= 0.75", False)]


def test_a_zero_threshold_is_a_threshold() -> None:
    """min: 0 / max: 0 are real bounds (a falsy bound must not be mistaken for 'no bound')."""
    assert verdicts(check_thresholds({"m": -0.5}, gates(Threshold(metric="m", min=0.0)))) == [
        (">= 0.0", False)
    ]
    assert verdicts(check_thresholds({"m": 0.5}, gates(Threshold(metric="m", max=0.0)))) == [
        ("<= 0.0", False)
    ]
    assert verdicts(check_thresholds({"m": 0.0}, gates(Threshold(metric="m", min=0.0, max=0.0)))) == [
        (">= 0.0", True),
        ("<= 0.0", True),
    ]


def test_a_missing_metric_fails_each_of_its_gates() -> None:
    results = check_thresholds({"other": 1.0}, gates(Threshold(metric="m", min=0.25, max=0.75)))
    assert [(r.value, r.passed) for r in results] == [(None, False), (None, False)]


def test_no_gates_means_no_results() -> None:
    assert check_thresholds({"m": 1.0}, None) == []
    assert check_thresholds({"m": 1.0}, gates()) == []


def test_each_threshold_is_checked_against_its_own_metric() -> None:
    results = check_thresholds(
        {"r2": 0.5, "rmse": 0.75},
        gates(Threshold(metric="r2", min=0.5), Threshold(metric="rmse", max=0.5)),
    )
    assert [(r.metric, r.value, r.passed) for r in results] == [("r2", 0.5, True), ("rmse", 0.75, False)]
    assert results[0].to_dict() == {
        "gate": "threshold",
        "metric": "r2",
        "value": 0.5,
        "threshold": ">= 0.5",
        "passed": True,
    }


# --- no worse than PRD ------------------------------------------------------------------------------


def no_worse(higher: bool, tolerance: float = 0.0) -> Gates:
    return gates(no_worse=NoWorseThanPrd(metric="m", higher_is_better=higher, tolerance=tolerance))


@pytest.mark.parametrize(
    ("candidate", "passed"), [(0.4375, True), (0.5, True), (0.5625, False), (0.25, True)]
)
def test_lower_is_better_without_tolerance(candidate: float, passed: bool) -> None:
    [result] = check_no_worse({"m": candidate}, {"m": 0.5}, no_worse(higher=False))
    assert (result.threshold, result.passed) == ("<= 0.5 (PRD 0.5)", passed)
    assert result.gate == "no_worse_than_prd" and result.value == candidate


@pytest.mark.parametrize(
    ("candidate", "passed"), [(0.4375, False), (0.5, True), (0.5625, True), (0.75, True)]
)
def test_higher_is_better_without_tolerance(candidate: float, passed: bool) -> None:
    [result] = check_no_worse({"m": candidate}, {"m": 0.5}, no_worse(higher=True))
    assert (result.threshold, result.passed) == (">= 0.5 (PRD 0.5)", passed)


@pytest.mark.parametrize(
    ("candidate", "passed"), [(0.625, True), (0.6875, False), (0.5, True), (0.5625, True)]
)
def test_lower_is_better_tolerance_widens_the_bound_upwards(candidate: float, passed: bool) -> None:
    [result] = check_no_worse({"m": candidate}, {"m": 0.5}, no_worse(higher=False, tolerance=0.125))
    assert (result.threshold, result.passed) == ("<= 0.625 (PRD 0.5)", passed)


@pytest.mark.parametrize(
    ("candidate", "passed"), [(0.375, True), (0.3125, False), (0.5, True), (0.4375, True)]
)
def test_higher_is_better_tolerance_widens_the_bound_downwards(candidate: float, passed: bool) -> None:
    [result] = check_no_worse({"m": candidate}, {"m": 0.5}, no_worse(higher=True, tolerance=0.125))
    assert (result.threshold, result.passed) == (">= 0.375 (PRD 0.5)", passed)


def test_no_worse_passes_when_prd_serves_nothing_or_has_no_such_metric() -> None:
    for current in (None, {}, {"other": 0.5}):
        [result] = check_no_worse({"m": 9.0}, current, no_worse(higher=False))
        assert (result.threshold, result.passed, result.value) == ("no model serving in PRD", True, 9.0)


def test_no_worse_fails_a_candidate_without_the_metric() -> None:
    [result] = check_no_worse({}, None, no_worse(higher=True))
    assert result.passed is False and result.value is None
    [result] = check_no_worse({}, {"m": 0.5}, no_worse(higher=True))
    assert result.passed is False and result.value is None
    [result] = check_no_worse({}, {"m": 0.5}, no_worse(higher=False))
    assert result.passed is False


def test_no_rule_no_result() -> None:
    assert check_no_worse({"m": 1.0}, {"m": 0.0}, gates()) == []
    assert check_no_worse({"m": 1.0}, {"m": 0.0}, None) == []


# --- candidate selection ----------------------------------------------------------------------------


def run(
    run_id: str,
    start: str,
    metrics: dict[str, float] | None = None,
    *,
    status: str = "EXPERIMENT_RUN_FINISHED",
    artifact: str | None = "model",
) -> ExperimentRun:
    tags = [{"key": ARTIFACT_TAG, "value": artifact}] if artifact is not None else []
    return ExperimentRun(
        id=run_id,
        status=status,
        start_time=start,
        data={"metrics": [{"key": k, "value": v} for k, v in (metrics or {}).items()], "tags": tags},
    )


def model(strategy: str = "latest", metric: str | None = None, order: str = "min") -> ModelSpec:
    return ModelSpec(
        job="train",
        experiment="e",
        endpoint=Endpoint(model_name="m"),
        select=Select(strategy=strategy, metric=metric, order=order),
    )


RUNS = [
    run("old-best-low", "2026-01-01T00:00:00Z", {"rmse": 0.25, "r2": 0.5}),
    run("mid", "2026-01-02T00:00:00Z", {"rmse": 0.5, "r2": 0.75}),
    run("new", "2026-01-03T00:00:00Z", {"rmse": 0.75, "r2": 0.25}),
]


def test_latest_is_the_newest_finished_run_that_logged_the_model() -> None:
    runs = [
        *RUNS,
        run("newer-failed", "2026-01-04T00:00:00Z", status="EXPERIMENT_RUN_FAILED"),
        run("newer-no-model", "2026-01-05T00:00:00Z", artifact=None),
        run("newer-other-path", "2026-01-06T00:00:00Z", artifact="other"),
    ]
    assert select_run(runs, model()).id == "new"
    assert select_run(list(reversed(runs)), model()).id == "new"  # by time, not by list order


def test_mlflow_spelling_of_finished_counts() -> None:
    assert logged_model(run("a", "t", status="FINISHED"), "model")
    assert not logged_model(run("a", "t", status="RUNNING"), "model")
    assert not logged_model(run("a", "t"), "other")


def test_best_with_order_min_takes_the_lowest() -> None:
    assert select_run(RUNS, model("best", "rmse", "min")).id == "old-best-low"
    assert select_run(list(reversed(RUNS)), model("best", "rmse", "min")).id == "old-best-low"


def test_best_with_order_max_takes_the_highest() -> None:
    assert select_run(RUNS, model("best", "r2", "max")).id == "mid"
    assert select_run(list(reversed(RUNS)), model("best", "r2", "max")).id == "mid"


def test_best_ties_go_to_the_newest_run_either_order() -> None:
    tied = [
        run("first", "2026-01-01T00:00:00Z", {"m": 0.5}),
        run("second", "2026-01-02T00:00:00Z", {"m": 0.5}),
        run("worse", "2026-01-03T00:00:00Z", {"m": 0.75}),
    ]
    assert select_run(tied, model("best", "m", "min")).id == "second"
    assert select_run(list(reversed(tied)), model("best", "m", "min")).id == "second"
    low = [run("a", "2026-01-01T00:00:00Z", {"m": 0.75}), run("b", "2026-01-02T00:00:00Z", {"m": 0.75})]
    assert select_run(low, model("best", "m", "max")).id == "b"


def test_best_ignores_runs_without_the_metric_and_unfinished_runs() -> None:
    runs = [
        run("no-metric", "2026-01-05T00:00:00Z", {"other": 0.0}),
        run("failed-better", "2026-01-04T00:00:00Z", {"m": 0.0}, status="EXPERIMENT_RUN_FAILED"),
        run("scored", "2026-01-01T00:00:00Z", {"m": 0.5}),
    ]
    assert select_run(runs, model("best", "m", "min")).id == "scored"
    assert select_run(runs[:1], model("best", "m", "min")) is None  # nothing scored: no candidate


def test_no_candidate_at_all() -> None:
    assert select_run([], model()) is None
    assert select_run([run("x", "t", status="EXPERIMENT_RUN_RUNNING")], model()) is None
