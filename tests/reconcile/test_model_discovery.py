"""Finding the trained model the way MLflow records it, not by a tag only cmlops scripts set.

The fake's training job logs its MLflow run as ``fake.model_logging`` says: ``mlflow2`` is
``mlflow.sklearn.log_model(model, "model")`` under mlflow(-skinny) 2.19 (CML's runtimes: the
``mlflow.log-model.history`` tag, the model folder among the artifacts), ``mlflow3`` is
``log_model(model, name="model")`` under MLflow 3 (no tag; ``model/MLmodel`` among the files).
"""

from __future__ import annotations

import copy
import json

import pytest
from fakes.fake_cml import FakeCML

from automation.api.types import ExperimentRun
from automation.errors import CmlopsError
from automation.reconcile import make_plan
from automation.reconcile.selection import logged_model, model_evidence, of_project, select_run
from automation.workflows.bootstrap import bootstrap


def _run(**data: object) -> ExperimentRun:
    return ExperimentRun.model_validate(
        {"id": "r1", "status": "EXPERIMENT_RUN_FINISHED", "start_time": "2024-05-02T09:00:00Z", "data": data}
    )


def _history(*paths: str) -> dict[str, str]:
    value = json.dumps([{"run_id": "r1", "artifact_path": p, "flavors": {"sklearn": {}}} for p in paths])
    return {"key": "mlflow.log-model.history", "value": value}


@pytest.mark.parametrize("style", ["mlflow2", "mlflow3", "cmlops-tag"])
def test_a_run_logged_by_plain_mlflow_is_registered_and_the_next_apply_changes_nothing(
    fake: FakeCML, client, spec, style: str
) -> None:
    fake.model_logging = style
    bootstrap(client, spec)
    (run_id,) = fake.experiment_runs
    (version,) = fake.model_versions.values()
    assert version["model_version_metadata"]["mlflow_metadata"]["run_id"] == run_id
    fake.calls.clear()
    the_plan, _, _ = make_plan(client, spec)
    assert not the_plan.has_changes, the_plan  # no retrain on every apply
    assert len(fake.job_runs) == 1


def test_a_run_that_logged_no_model_is_never_registered(fake: FakeCML, client, spec) -> None:
    fake.model_logging = "none"
    with pytest.raises(CmlopsError, match="logged a model under 'model'"):
        bootstrap(client, spec)
    assert fake.model_versions == {} and fake.builds == {}


def test_a_newer_run_of_another_project_never_becomes_the_candidate(converged: FakeCML, client, spec) -> None:
    (mine,) = converged.experiment_runs.values()
    foreign = copy.deepcopy(mine)
    foreign.update(id="zzzz-zzzz-zzzz-zzzz", start_time="2030-01-01T00:00:00.000000Z")
    foreign["data"]["tags"] += [
        {"key": "cml.project_id", "value": "othr-proj-ectx-0001"},
        {"key": "model_artifact_path", "value": "model"},  # even with cmlops' own tag
    ]
    foreign["data"]["registered_model_metadata"] = []
    converged.experiment_runs[foreign["id"]] = foreign
    converged._owner[foreign["id"]] = mine["experiment_id"]
    the_plan, obs, _ = make_plan(client, spec)
    assert obs.models["wine-test-model"].mlflow_run.id == mine["id"]
    assert not the_plan.has_changes


def test_evidence_of_each_kind_names_the_path() -> None:
    files = [{"path": "model/MLmodel", "is_dir": False}, {"path": "model/model.pkl", "is_dir": False}]
    assert model_evidence(_run(files=files), "model") == ["artifact model/MLmodel"]
    assert model_evidence(_run(tags=[_history("other", "model")]), "model") == [
        "tag mlflow.log-model.history"
    ]
    meta = [{"model_path": "model", "model_name": "wine", "run_id": "r1"}]
    assert model_evidence(_run(registered_model_metadata=meta), "model") == [
        "a registered version from that path"
    ]
    assert model_evidence(_run(tags=[{"key": "model_artifact_path", "value": "model"}]), "model") == [
        "tag model_artifact_path"
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"files": [{"path": "model", "is_dir": True}]},  # a folder alone is not a model
        {"files": [{"path": "wine_model/MLmodel", "is_dir": False}]},
        {"files": [{"path": "models/model/MLmodel", "is_dir": False}]},
        {"tags": [_history("wine_model")]},
        {"tags": [{"key": "mlflow.log-model.history", "value": "not json"}]},
        {"tags": [{"key": "mlflow.log-model.history", "value": '{"artifact_path": "model"}'}]},
        {"tags": [{"key": "mlflow.log-model.history", "value": '["model", {"artifact_path": ""}]'}]},
        {"registered_model_metadata": [{"model_path": "wine_model"}]},
        {"tags": [{"key": "model_artifact_path", "value": "wine_model"}]},
        {},
    ],
)
def test_nothing_else_counts_as_a_model_under_the_path(data: dict) -> None:
    assert not logged_model(_run(**data), "model")


def test_an_unfinished_run_is_not_a_candidate_whatever_it_logged() -> None:
    run = _run(tags=[_history("model")])
    run.status = "EXPERIMENT_RUN_RUNNING"
    assert not logged_model(run, "model")


def test_runs_of_other_projects_and_outside_any_project_are_left_out() -> None:
    def tagged(rid: str, project: str | None) -> ExperimentRun:
        tags = [_history("model")] + ([{"key": "cml.project_id", "value": project}] if project else [])
        run = _run(tags=tags)
        run.id = rid
        return run

    mine, other, outside = tagged("a", "p1"), tagged("b", "p2"), tagged("c", None)
    # The workspace marks its project runs: an unmarked one came from outside any project.
    assert [r.id for r in of_project([mine, other, outside], "p1")] == ["a"]
    # A workspace that does not mark this project's runs (CML lists a project's own runs): the
    # unmarked ones are the project's, never one marked with another project.
    assert [r.id for r in of_project([other, outside], "p1")] == ["c"]


def test_select_run_skips_a_newer_foreign_run() -> None:
    class Select:
        strategy, metric, order = "latest", "rmse", "min"

    class ModelSpec:
        artifact_path, select = "model", Select()

    mine = _run(tags=[_history("model"), {"key": "cml.project_id", "value": "p1"}])
    other = _run(tags=[_history("model"), {"key": "cml.project_id", "value": "p2"}])
    other.id, other.start_time = "r2", "2030-01-01T00:00:00Z"
    assert select_run([mine, other], ModelSpec(), "p1") is mine


def test_a_run_a_registered_version_came_from_is_evidence_by_itself() -> None:
    assert model_evidence(_run(), "model", registered_runs={"r1"}) == ["a version of the registered model"]
    assert model_evidence(_run(), "model", registered_runs={"r2"}) == []


def test_an_untagged_run_belongs_unless_the_workspace_tags_its_projects_runs() -> None:
    from automation.reconcile.selection import belongs

    untagged, tagged = _run(), _run(tags=[{"key": "cml.project_id", "value": "p1"}])
    assert belongs(untagged, "p1") is True  # by default the workspace is taken not to tag runs
    assert belongs(untagged, "p1", marked=True) is False
    assert belongs(tagged, "p1") is True and belongs(tagged, "p2") is False
