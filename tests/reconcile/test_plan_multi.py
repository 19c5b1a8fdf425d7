"""Spec v2 over many resources on the fake: a job chain with a schedule beside it, two models, an
application. Per-resource actions with their dependencies; apply starts only the chain's root (CML
starts the dependent jobs), creates the scheduled job without running it, serves both models, starts
the application; a re-apply makes no writes; changes are planned per resource."""

from __future__ import annotations

import pytest
from fakes.fake_cml import FakeCML
from fakes.specs import REPO, make_spec

from automation.errors import ApiError, SpecError
from automation.reconcile import make_plan
from automation.spec import load_spec
from automation.workflows.bootstrap import bootstrap
from automation.workflows.promotion import promote

MULTI = REPO / "tests" / "reconcile" / "spec-v2-multi.yaml"
RUNS = "/api/v2/projects/{project}/jobs/{job}/runs"


@pytest.fixture
def multi():
    return load_spec(MULTI)


def _jobs(fake: FakeCML) -> dict[str, dict]:
    return {j["name"]: j for j in fake.jobs.values()}


def test_an_empty_workspace_plans_every_resource_with_its_dependencies(fake: FakeCML, client, multi) -> None:
    the_plan = make_plan(client, multi)[0]
    assert [(a.resource, a.kind) for a in the_plan.actions] == [
        ("project.dev", "create"),
        ("files.dev", "upload"),
        ("project.prd", "create"),
        ("files.prd", "upload"),
        ("job.install", "create"),
        ("job.train-red", "create"),
        ("job.train-white", "create"),
        ("job.weekly-retrain", "create"),
        ("job_run.wine-red", "run"),
        ("model_version.wine-red", "register"),
        ("endpoint.wine-red", "create"),
        ("build.wine-red", "build"),
        ("deployment.wine-red", "deploy"),
        ("job_run.wine-white", "run"),
        ("model_version.wine-white", "register"),
        ("endpoint.wine-white", "create"),
        ("build.wine-white", "build"),
        ("deployment.wine-white", "deploy"),
        ("application.wine-scorer", "create"),
    ]
    deps = {a.resource: a.depends_on for a in the_plan.actions}
    assert deps["job.train-red"] == ["project.dev", "files.dev", "job.install"]
    assert deps["job.weekly-retrain"] == ["project.dev", "files.dev"]  # no parent: it has a schedule
    assert deps["job_run.wine-white"] == ["job.install", "job.train-white"]
    assert deps["deployment.wine-white"] == ["build.wine-white"]
    assert deps["application.wine-scorer"] == [
        "project.prd",
        "files.prd",
        "deployment.wine-red",
        "deployment.wine-white",
    ]
    assert the_plan.get("files.prd").changes == {
        "code/wine.py": [None, len((REPO / "code/wine.py").read_bytes())]
    }
    # every dependency is planned before the action that needs it
    seen: set[str] = set()
    for action in the_plan.actions:
        assert set(action.depends_on) <= seen, action.resource
        seen.add(action.resource)
    assert the_plan.get("job.weekly-retrain").desired["schedule"] == "0 6 * * 1"
    assert the_plan.get("job.weekly-retrain").desired["timezone"] == "Europe/Paris"
    assert the_plan.get("job.train-red").desired["after"] == "install"
    assert the_plan.get("deployment.wine-white").desired["replicas"] == 2
    assert "started from 'install'" in the_plan.get("job_run.wine-red").reason


def test_apply_builds_the_whole_project_and_a_reapply_writes_nothing(fake: FakeCML, client, multi) -> None:
    result = bootstrap(client, multi)
    jobs = _jobs(fake)
    install = jobs["install"]
    assert jobs["train-red"]["parent_id"] == jobs["train-white"]["parent_id"] == install["id"]
    weekly = jobs["weekly-retrain"]
    assert (weekly["type"], weekly["schedule"], weekly["timezone"], weekly["parent_id"]) == (
        "cron",
        "0 6 * * 1",
        "Europe/Paris",
        "",
    )
    # apply started the root once; CML started both trainings when it succeeded; the schedule never ran
    started = [c.path.split("/jobs/")[1].split("/")[0] for c in fake.writes() if fake.shape(c.path) == RUNS]
    assert started == [install["id"]]
    runs_of = {n: [r for r in fake.job_runs.values() if r["job_id"] == j["id"]] for n, j in jobs.items()}
    assert [len(runs_of[n]) for n in ("install", "train-red", "train-white", "weekly-retrain")] == [
        1,
        1,
        1,
        0,
    ]
    # both models registered, built and deployed with their own resources
    assert sorted(r["name"] for r in fake.registered_models.values()) == ["wine-red", "wine-white"]
    deployed = {fake.models[d["model_id"]]["name"]: d for d in fake.deployments.values()}
    assert sorted(deployed) == ["wine-red-endpoint", "wine-white-endpoint"]
    assert deployed["wine-white-endpoint"]["replicas"] == 2
    assert result.summary["models"]["wine-white"]["deployment_status"] == "deployed"
    (app,) = fake.applications.values()
    assert (app["name"], app["subdomain"], fake._owner[app["id"]]) == (
        "wine-scorer",
        "wine-scorer",
        result.summary["prd_project_id"],
    )
    assert '"CMLOPS_SPEC": "wine-multi"' in app["environment"]  # marked: destroy may delete it
    assert list(fake.files[result.summary["prd_project_id"]]) == ["code/wine.py"]  # the PRD app's script only

    fake.calls.clear()
    again = bootstrap(client, multi).plan
    assert not again.has_changes and fake.writes() == []
    assert {a.kind for a in again.actions} == {"noop"}


def test_changes_are_planned_and_applied_per_resource(fake: FakeCML, client, multi) -> None:
    bootstrap(client, multi)
    app_id = next(iter(fake.applications))
    fake.applications[app_id]["status"] = "APPLICATION_STOPPED"
    plan = make_plan(client, multi)[0]
    assert [(a.resource, a.kind) for a in plan.changes] == [("application.wine-scorer", "restart")]

    moved = make_spec(
        {
            "applications": {"wine-scorer": {"cpu": 2}},
            "jobs": {"weekly-retrain": {"schedule": {"cron": "30 7 * * 1", "timezone": "UTC"}}},
        },
        path=MULTI,
    )
    plan = make_plan(client, moved)[0]
    changes = {a.resource: a.changes for a in plan.changes}
    assert changes == {
        "job.weekly-retrain": {"schedule": ["0 6 * * 1", "30 7 * * 1"], "timezone": ["Europe/Paris", "UTC"]},
        "application.wine-scorer": {"cpu": [1.0, 2.0]},
    }
    assert plan.get("job_run.wine-red").kind == "noop"  # a scheduled job's change retrains nothing
    fake.calls.clear()
    bootstrap(client, moved)
    weekly = _jobs(fake)["weekly-retrain"]
    assert (weekly["schedule"], weekly["timezone"]) == ("30 7 * * 1", "UTC")
    app = fake.applications[app_id]
    assert (app["cpu"], app["status"]) == (2.0, "APPLICATION_RUNNING")
    assert [c.path.rsplit("/", 1)[-1] for c in fake.writes() if "/applications/" in c.path] == [
        app_id,
        f"{app_id}:restart",
    ]
    fake.calls.clear()
    assert not make_plan(client, moved)[0].has_changes and fake.writes() == []


def test_promote_asks_which_model_when_there_are_several(fake: FakeCML, client, multi) -> None:
    bootstrap(client, multi)
    with pytest.raises(SpecError, match="several models") as caught:
        promote(client, multi)
    assert "wine-red, wine-white" in caught.value.hint and "--model" in caught.value.hint
    report = promote(client, multi, model="wine-white", dry_run=True)
    assert report.outcome == "noop" and report.candidate["number"] == 1  # it serves already


def test_the_fake_is_as_strict_as_cml_about_job_triggers(fake: FakeCML, client) -> None:
    project = client.projects.create("strict", description="")
    runtime = fake.runtimes[0]["image_identifier"]
    parent = client.jobs.create(project.id, name="p", script="a.py", runtime_identifier=runtime)
    with pytest.raises(ApiError, match="parent job and a schedule"):
        client.jobs.create(
            project.id,
            name="c",
            script="a.py",
            runtime_identifier=runtime,
            parent_id=parent.id,
            schedule="0 6 * * 1",
        )
    with pytest.raises(ApiError, match="five-field cron"):
        client.jobs.create(
            project.id, name="c", script="a.py", runtime_identifier=runtime, schedule="0 6 * *"
        )
    with pytest.raises(ApiError, match="IANA"):
        client.jobs.create(
            project.id,
            name="c",
            script="a.py",
            runtime_identifier=runtime,
            schedule="0 6 * * 1",
            timezone="Mars/Olympus",
        )
    with pytest.raises(ApiError, match="parent job and a schedule"):
        client.jobs.update(project.id, parent.id, schedule="0 6 * * 1", parent_id=parent.id)
    assert [j["name"] for j in fake.jobs.values()] == ["p"]
    fake.calls.clear()  # the refused requests are CML-strict on purpose, not swagger problems


def test_a_v1_spec_migrated_to_v2_plans_no_change_on_a_workspace_made_from_v1(
    converged: FakeCML, client, spec, tmp_path
) -> None:
    from fakes.specs import TEST_SPEC

    from automation.spec.migrate import migrate_text

    v2_text = migrate_text(TEST_SPEC.read_text(), str(TEST_SPEC))
    assert "version: 2" in v2_text and "after:" not in v2_text  # the test spec has no install step
    migrated_path = TEST_SPEC.parent / "spec-wine-test.migrated.yaml"
    try:
        migrated_path.write_text(v2_text)
        migrated = load_spec(migrated_path)
    finally:
        migrated_path.unlink()
    assert migrated.source_version == 2 and spec.source_version == 1
    the_plan = make_plan(client, migrated)[0]
    assert not the_plan.has_changes and converged.writes() == []
    assert [a.resource for a in the_plan.actions] == [a.resource for a in make_plan(client, spec)[0].actions]


def test_destroy_deletes_the_specs_own_applications_and_leaves_the_others(
    fake: FakeCML, client, multi
) -> None:
    from automation.workflows.destroy import destroy, find_doomed

    bootstrap(client, multi)
    prd = client.projects.find(multi.projects.prd.name)
    runtime = fake.runtimes[0]["image_identifier"]
    client.applications.create(
        prd.id, name="someone-elses", subdomain="other", script="x.py", runtime_identifier=runtime
    )
    doomed = find_doomed(client, multi, include_prd=True, include_registry=False)
    kinds = [(d.kind, d.name) for d in doomed.delete]
    assert ("application", "wine-scorer") in kinds and ("application", "someone-elses") not in kinds
    assert {(x.kind, x.name) for x in doomed.left} >= {("application", "someone-elses")}
    assert sorted(n for k, n in kinds if k == "job") == [
        "install",
        "train-red",
        "train-white",
        "weekly-retrain",
    ]
    assert sorted(n for k, n in kinds if k == "model") == ["wine-red-endpoint", "wine-white-endpoint"]
    destroy(client, doomed.delete)
    assert [a["name"] for a in fake.applications.values()] == ["someone-elses"]
