"""Experiments, experiment runs and metric history."""

from __future__ import annotations

from automation.api import CMLClient

from .wire import Wire, experiment, experiment_run, search

EXP = "/api/v2/projects/p1/experiments"
EID = "mwzb-4nfp-me2y-h3z0"


def test_list_and_find_exact_name(client: CMLClient, wire: Wire) -> None:
    items = [experiment("e-2", "wine-quality-v2"), experiment(EID, "wine-quality")]
    wire.page(EXP, "experiments", items, token=None, query={"search_filter": search(name="wine-quality")})

    found = client.experiments.find("p1", "wine-quality")

    assert found is not None and found.id == EID


def test_list_over_pages(client: CMLClient, wire: Wire) -> None:
    wire.page(EXP, "experiments", [experiment("e1")], token=None, next_token="x")
    wire.page(EXP, "experiments", [experiment("e2")], token="x")

    assert [e.id for e in client.experiments.list("p1")] == ["e1", "e2"]


def test_get(client: CMLClient, wire: Wire) -> None:
    wire.expect("GET", f"{EXP}/{EID}", reply=experiment(EID, tags=[{"key": "team", "value": "ml"}]))

    got = client.experiments.get("p1", EID)

    assert (got.name, got.tags) == ("wine-quality", [{"key": "team", "value": "ml"}])


def test_list_runs_sorted_with_filter_and_limit(client: CMLClient, wire: Wire) -> None:
    q = {"sort": "-start_time", "search_filter": search(status="EXPERIMENT_RUN_FINISHED")}
    wire.page(
        f"{EXP}/{EID}/runs",
        "experiment_runs",
        [experiment_run("r1"), experiment_run("r2")],
        token=None,
        next_token="n",
        page_size=2,
        query=q,
    )

    got = list(
        client.experiments.list_runs("p1", EID, search_filter={"status": "EXPERIMENT_RUN_FINISHED"}, limit=2)
    )

    assert [r.id for r in got] == ["r1", "r2"]


def test_list_runs_over_pages(client: CMLClient, wire: Wire) -> None:
    path = f"{EXP}/{EID}/runs"
    wire.page(
        path,
        "experiment_runs",
        [experiment_run("r1")],
        token=None,
        next_token="n",
        query={"sort": "-start_time"},
    )
    wire.page(path, "experiment_runs", [experiment_run("r2")], token="n", query={"sort": "-start_time"})

    assert [r.id for r in client.experiments.list_runs("p1", EID)] == ["r1", "r2"]


def test_get_run_exposes_metrics_params_and_tags(client: CMLClient, wire: Wire) -> None:
    wire.expect("GET", f"{EXP}/{EID}/runs/r1", reply=experiment_run("r1"))

    run = client.experiments.get_run("p1", EID, "r1")

    assert run.metrics == {"rmse": 0.61, "r2": 0.38}
    assert run.params == {"alpha": "0.5"}
    assert run.tags == {"mlflow.user": "alice"}
    assert run.model_extra["inputs"] == {"dataset_inputs": []}


def test_metric_history(client: CMLClient, wire: Wire) -> None:
    history = [
        {"key": "rmse", "value": 0.9, "timestamp": "1", "step": "0"},
        {"key": "rmse", "value": 0.7, "timestamp": "2", "step": "1"},
    ]
    wire.expect("GET", f"{EXP}/{EID}/runs/r1/metrics/rmse", reply={"metrics": history})

    assert client.experiments.metric_history("p1", EID, "r1", "rmse") == history
