"""The plan as data: its order of actions, its JSON form, and plan() called directly (it is pure)."""

from __future__ import annotations

from dataclasses import replace

from fakes.fake_cml import FakeCML
from fakes.specs import make_spec

from automation.reconcile import make_plan
from automation.reconcile.observe import observe
from automation.reconcile.plan import Action, Plan, plan
from automation.reconcile.sources import collect_files

ORDER = [
    "project.dev",
    "files.dev",
    "project.prd",
    "job",
    "job_run",
    "model_version",
    "model",
    "build",
    "deployment",
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
        ("job", "create"),
        ("job_run", "run"),
        ("model_version", "register"),
        ("model", "create"),
        ("build", "build"),
        ("deployment", "deploy"),
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
    assert retrain.get("job_run").kind == "run" and retrain.get("job_run").reason == "--retrain"
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
        "kind": "create",
        "name": "wine-test-dev",
        "reason": "does not exist",
        "changes": {},
        "id": None,
        "destroys": "",
    }
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
    noop = Action("job", "noop", "j")
    assert not noop.is_change and Plan([noop]).changes == [] and not Plan([noop]).has_changes
    assert all(Action("x", kind, "n").is_change for kind in ("create", "update", "replace", "upload"))
    assert all(Action("x", kind, "n").is_change for kind in ("run", "wait", "register", "build", "deploy"))


def test_superseded_deployments_are_planned_to_stop_by_id(converged: FakeCML, client, spec) -> None:
    files = collect_files(spec)
    obs = observe(client, spec, files)
    old = obs.deployment.model_copy(update={"id": "old-dep-1", "replicas": 2})
    older = obs.deployment.model_copy(update={"id": "old-dep-2"})
    obs.other_deployments = [old, older]
    the_plan = plan(spec, obs, local_files=files)
    stop = the_plan.actions[-1]
    assert (stop.resource, stop.kind) == ("old_deployments", "update")
    assert stop.reason == "stop superseded deployment(s) old-dep-1, old-dep-2"
    assert stop.changes == {"status": ["deployed", "stopped"]}
    assert [a.resource for a in the_plan.changes] == ["old_deployments"]


def test_a_logged_but_unregistered_run_is_registered_then_built_and_deployed(
    converged: FakeCML, client, spec
) -> None:
    files = collect_files(spec)
    obs = observe(client, spec, files)
    run_id = obs.mlflow_run.id
    obs.version = None
    the_plan = plan(spec, obs, local_files=files)
    version = the_plan.get("model_version")
    assert (version.kind, version.reason) == ("register", f"MLflow run {run_id} not registered")
    assert the_plan.get("job_run").kind == "noop"  # no retraining for it
    assert [(a.resource, a.kind) for a in the_plan.changes] == [
        ("model_version", "register"),
        ("build", "build"),
        ("deployment", "deploy"),
    ]


def test_why_the_job_runs_again(converged: FakeCML, client, spec) -> None:
    files = collect_files(spec)
    obs = observe(client, spec, files)
    no_success = plan(spec, replace(obs, last_success_run=None), local_files=files)
    assert (no_success.get("job_run").kind, no_success.get("job_run").reason) == ("run", "no successful run")
    no_mlflow = plan(spec, replace(obs, mlflow_run=None), local_files=files)
    assert no_mlflow.get("job_run").reason == "no MLflow run logged the model"
    assert no_mlflow.get("model_version").reason == "after the training run"


def test_a_model_serving_another_registered_model_is_replaced(converged: FakeCML, client, spec) -> None:
    files = collect_files(spec)
    obs = observe(client, spec, files)
    real = obs.registered.model_id
    obs.model = obs.model.model_copy(update={"registered_model_id": "someone-elses"})
    model = plan(spec, obs, local_files=files).get("model")
    assert (model.kind, model.changes) == ("replace", {"registered_model_id": ["someone-elses", real]})
    obs.model = obs.model.model_copy(update={"registered_model_id": ""})  # not linked yet: keep it
    assert plan(spec, obs, local_files=files).get("model").kind == "noop"


def test_an_empty_model_description_converges(converged: FakeCML, client) -> None:
    from automation.workflows.bootstrap import apply_spec

    spec = make_spec({"deployment": {"description": ""}})
    model = make_plan(client, spec)[0].get("model")
    assert (model.kind, model.changes) == ("update", {"description": ["wine quality (tests)", ""]})
    apply_spec(client, spec)
    assert make_plan(client, spec)[0].get("model").kind == "noop"
