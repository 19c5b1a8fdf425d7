"""The plan as data: its order of actions, its JSON form, and plan() called directly (it is pure)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fakes.fake_cml import FakeCML
from fakes.specs import make_spec

from automation.reconcile import make_plan
from automation.reconcile.observe import ModelObserved, Observed, observe
from automation.reconcile.plan import Action, Kind, Plan, Res, plan
from automation.reconcile.sources import collect_files

ORDER = [
    "project.dev",
    "files.dev",
    "project.prd",
    "job.train wine model",
    "job_run.wine-test-model",
    "model_version.wine-test-model",
    "endpoint.wine-test-model",
    "build.wine-test-model",
    "deployment.wine-test-model",
]


def test_a_converged_plan_lists_every_resource_once_in_order(converged: FakeCML, client, spec) -> None:
    the_plan = make_plan(client, spec)[0]
    assert [a.resource for a in the_plan.actions] == ORDER
    assert {a.kind for a in the_plan.actions} == {"noop"}
    assert the_plan.get("files.dev").reason == "up to date"


def test_an_empty_workspace_plans_creates_in_order(fake: FakeCML, client, spec) -> None:
    the_plan = make_plan(client, spec)[0]
    assert [(a.resource, a.kind) for a in the_plan.actions] == [
        ("project.dev", "create"),
        ("files.dev", "upload"),
        ("project.prd", "create"),
        ("job.train wine model", "create"),
        ("job_run.wine-test-model", "run"),
        ("model_version.wine-test-model", "register"),
        ("endpoint.wine-test-model", "create"),
        ("build.wine-test-model", "build"),
        ("deployment.wine-test-model", "deploy"),
    ]
    files = the_plan.get("files.dev")
    assert files.reason == f"{len(files.changes)} file(s) missing or changed" and len(files.changes) == 2
    assert all(remote is None and local > 0 for remote, local in files.changes.values())


def test_plan_is_pure_and_does_not_retrain_by_default(converged: FakeCML, client, spec) -> None:
    files = collect_files(spec)
    obs = observe(client, spec, files)
    calls = len(converged.calls)
    first = plan(spec, obs, local_files=files)
    again = plan(spec, obs, local_files=files)
    assert len(converged.calls) == calls  # no I/O
    assert first.to_dict() == again.to_dict() and not first.has_changes
    retrain = plan(spec, obs, local_files=files, retrain=True)
    assert (
        retrain.get("job_run.wine-test-model").kind == "run"
        and retrain.get("job_run.wine-test-model").reason == "--retrain"
    )
    without_files = plan(spec, obs)
    assert "files.dev" not in [a.resource for a in without_files.actions]


def test_plan_json_form(fake: FakeCML, client) -> None:
    spec = make_spec()
    the_plan = make_plan(client, spec)[0]
    data = the_plan.to_dict()
    assert list(data) == ["has_changes", "runtime_identifier", "reads", "destructive", "actions"]
    assert data["destructive"] == []  # an empty workspace: nothing to delete or stop
    assert data["has_changes"] is True and data["reads"] == the_plan.reads > 0
    assert data["runtime_identifier"] == the_plan.runtime_identifier and data["runtime_identifier"]
    first = data["actions"][0]
    assert first == {
        "resource": "project.dev",
        "type": "project",
        "kind": "create",
        "name": "wine-test-dev",
        "reason": "does not exist",
        "changes": {},
        "id": None,
        "destroys": "",
        "depends_on": [],
    }
    deployment = data["actions"][-1]
    assert deployment["resource"] == "deployment.wine-test-model" and deployment["type"] == "deployment"
    assert deployment["depends_on"] == ["build.wine-test-model"]
    assert "desired" not in deployment  # the fields apply sends stay internal (unmasked)
    assert the_plan.get("deployment.wine-test-model").desired["replicas"] == 1
    assert len(data["actions"]) == len(the_plan.actions) and len(the_plan.changes) == 9


def test_an_empty_plan() -> None:
    empty = Plan([])
    assert empty.to_dict() == {
        "has_changes": False,
        "runtime_identifier": None,
        "reads": 0,
        "destructive": [],
        "actions": [],
    }
    noop = Action(Res.JOB, "j", Kind.NOOP, "j")
    assert noop.resource == "job.j"
    assert not noop.is_change and Plan([noop]).changes == [] and not Plan([noop]).has_changes
    assert all(
        Action(Res.JOB, "x", kind, "n").is_change for kind in ("create", "update", "replace", "upload")
    )
    assert all(
        Action(Res.JOB, "x", kind, "n").is_change for kind in ("run", "wait", "register", "build", "deploy")
    )
    assert {str(k) for k in Kind if Action(Res.JOB, "x", k, "n").is_change} == {str(k) for k in Kind} - {
        "noop"
    }
    with pytest.raises(ValueError):
        Action("jobs", "x", "noop", "n")  # resource types and kinds are closed sets
    with pytest.raises(ValueError):
        Action(Res.JOB, "x", "delete", "n")


def test_superseded_deployments_are_planned_to_stop_by_id(converged: FakeCML, client, spec) -> None:
    files = collect_files(spec)
    obs = observe(client, spec, files)
    m = obs.models["wine-test-model"]
    old = m.deployment.model_copy(update={"id": "old-dep-1", "replicas": 2})
    older = m.deployment.model_copy(update={"id": "old-dep-2"})
    m.other_deployments = [old, older]
    the_plan = plan(spec, obs, local_files=files)
    stop = the_plan.actions[-1]
    assert (stop.resource, stop.kind) == ("old_deployments.wine-test-model", "update")
    assert stop.reason == "stop superseded deployment(s) old-dep-1, old-dep-2"
    assert stop.changes == {"status": ["deployed", "stopped"]}
    assert [a.resource for a in the_plan.changes] == ["old_deployments.wine-test-model"]


def test_a_logged_but_unregistered_run_is_registered_then_built_and_deployed(
    converged: FakeCML, client, spec
) -> None:
    files = collect_files(spec)
    obs = observe(client, spec, files)
    run_id = obs.models["wine-test-model"].mlflow_run.id
    obs.models["wine-test-model"].version = None
    the_plan = plan(spec, obs, local_files=files)
    version = the_plan.get("model_version.wine-test-model")
    assert (version.kind, version.reason) == ("register", f"MLflow run {run_id} not registered")
    assert the_plan.get("job_run.wine-test-model").kind == "noop"  # no retraining for it
    assert [(a.resource, a.kind) for a in the_plan.changes] == [
        ("model_version.wine-test-model", "register"),
        ("build.wine-test-model", "build"),
        ("deployment.wine-test-model", "deploy"),
    ]


def with_model(obs: Observed, m: ModelObserved) -> Observed:
    return replace(obs, models={"wine-test-model": m})


def test_why_the_job_runs_again(converged: FakeCML, client, spec) -> None:
    files = collect_files(spec)
    obs = observe(client, spec, files)
    m = obs.models["wine-test-model"]
    no_success = plan(spec, with_model(obs, replace(m, last_success_run=None)), local_files=files)
    assert (
        no_success.get("job_run.wine-test-model").kind,
        no_success.get("job_run.wine-test-model").reason,
    ) == ("run", "no successful run")
    no_mlflow = plan(spec, with_model(obs, replace(m, mlflow_run=None)), local_files=files)
    assert no_mlflow.get("job_run.wine-test-model").reason == "no MLflow run logged the model"
    assert no_mlflow.get("model_version.wine-test-model").reason == "after the training run"


def test_a_model_serving_another_registered_model_is_replaced(converged: FakeCML, client, spec) -> None:
    files = collect_files(spec)
    obs = observe(client, spec, files)
    m = obs.models["wine-test-model"]
    real = m.registered.model_id
    m.model = m.model.model_copy(update={"registered_model_id": "someone-elses"})
    model = plan(spec, obs, local_files=files).get("endpoint.wine-test-model")
    assert (model.kind, model.changes) == ("replace", {"registered_model_id": ["someone-elses", real]})
    m.model = m.model.model_copy(update={"registered_model_id": ""})  # not linked yet: keep it
    assert plan(spec, obs, local_files=files).get("endpoint.wine-test-model").kind == "noop"


def test_an_empty_model_description_converges(converged: FakeCML, client) -> None:
    from automation.workflows.bootstrap import apply_spec

    spec = make_spec({"deployment": {"description": ""}})
    model = make_plan(client, spec)[0].get("endpoint.wine-test-model")
    assert (model.kind, model.changes) == ("update", {"description": ["wine quality (tests)", ""]})
    apply_spec(client, spec)
    assert make_plan(client, spec)[0].get("endpoint.wine-test-model").kind == "noop"
