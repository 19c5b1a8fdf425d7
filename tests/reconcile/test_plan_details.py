"""What a plan says about one resource: a job's reason, an application's dependencies."""

from __future__ import annotations

import pytest
from fakes.fake_cml import FakeCML
from fakes.specs import REPO, make_spec

from automation.errors import InputError
from automation.reconcile import make_plan
from automation.reconcile.observe import observe
from automation.spec import load_spec
from automation.workflows.bootstrap import bootstrap

MULTI = REPO / "tests" / "reconcile" / "spec-v2-multi.yaml"


def test_a_job_reason_says_differs_and_only_names_the_fields_cml_may_ignore(fake: FakeCML, client) -> None:
    bootstrap(client, load_spec(MULTI))
    converged = make_plan(client, load_spec(MULTI))[0]
    assert converged.get("job.weekly-retrain").reason == ""
    more_cpu = make_spec({"jobs": {"weekly-retrain": {"cpu": 2}}}, path=MULTI)
    assert make_plan(client, more_cpu)[0].get("job.weekly-retrain").reason == "differs"
    other_args = make_spec({"jobs": {"weekly-retrain": {"arguments": "--fast"}}}, path=MULTI)
    reason = make_plan(client, other_args)[0].get("job.weekly-retrain").reason
    assert reason.startswith(
        "differs; if CML leaves arguments unchanged after the PATCH, the job is replaced"
    )


def test_an_application_follows_the_files_of_its_own_project(fake: FakeCML, client) -> None:
    prd_app = make_plan(client, load_spec(MULTI))[0].get("application.wine-scorer")
    assert prd_app.depends_on[:2] == ["project.prd", "files.prd"]
    dev = make_spec({"applications": {"wine-scorer": {"project": "dev"}}}, path=MULTI)
    dev_app = make_plan(client, dev)[0].get("application.wine-scorer")
    assert dev_app.depends_on[:2] == ["project.dev", "files.dev"]
    assert "files.prd" not in dev_app.depends_on


def _endpoint_replaced(deployment, others):
    from automation.api.types import Model
    from automation.reconcile.observe import ModelObserved
    from automation.reconcile.plan.models import plan_endpoint

    endpoint = load_spec(MULTI).models["wine-red"].endpoint  # auth on
    open_model = Model(id="m1", name=endpoint.model_name, auth_enabled=False)
    seen = ModelObserved(model=open_model, deployment=deployment, other_deployments=others)
    return plan_endpoint("wine-red", endpoint, seen)


def test_replacing_an_endpoint_counts_every_deployment_it_stops() -> None:
    from automation.api.types import ModelDeployment

    live, old = ModelDeployment(id="d2", status="deployed"), ModelDeployment(id="d1", status="deployed")
    assert "and stops its 2 active deployment(s)" in _endpoint_replaced(live, [old]).destroys
    assert "and stops its 1 active deployment(s)" in _endpoint_replaced(None, [old]).destroys
    idle = _endpoint_replaced(None, [])
    assert idle.kind == "replace" and "stops" not in idle.destroys


def test_a_job_with_its_own_runtime_gets_that_runtime_not_the_default(fake: FakeCML, client) -> None:
    jupyter = make_spec({"jobs": {"weekly-retrain": {"runtime": {"editor": "JupyterLab"}}}}, path=MULTI)
    the_plan = make_plan(client, jupyter)[0]
    own = the_plan.get("job.weekly-retrain").desired["runtime_identifier"]
    default = the_plan.get("job.train-red").desired["runtime_identifier"]
    assert "jupyterlab" in own and "ml-runtime-workbench" in default


def test_the_newest_built_build_of_the_version_is_the_one_observed(fake: FakeCML, client) -> None:
    spec = load_spec(MULTI)
    bootstrap(client, spec)
    first, prd_id, newer = _another_build(client, spec)
    _until(lambda: client.models.get_build(prd_id, first.model.id, newer.id).status, "built")
    assert observe(client, spec).models["wine-red"].build.id == newer.id != first.build.id
    fake.calls.clear()


def test_a_runtime_identifier_the_workspace_lacks_stops_the_plan_before_any_write(
    fake: FakeCML, client
) -> None:
    pinned = fake.runtimes[1]["image_identifier"]
    ok = make_spec({"jobs": {"train-red": {"runtime": {"identifier": pinned}}}}, path=MULTI)
    assert make_plan(client, ok)[0].get("job.train-red").desired["runtime_identifier"] == pinned
    missing = make_spec({"jobs": {"train-red": {"runtime": {"identifier": pinned + "-gone"}}}}, path=MULTI)
    with pytest.raises(InputError, match="is not a runtime of this workspace"):
        make_plan(client, missing)
    assert fake.writes() == []


def test_an_application_on_an_older_matching_runtime_is_left_there(fake: FakeCML, client) -> None:
    spec = load_spec(MULTI)
    bootstrap(client, spec)
    app = next(iter(fake.applications.values()))
    older = next(
        r["image_identifier"]
        for r in fake.runtimes
        if r["image_identifier"] != app["runtime_identifier"]
        and r["editor"] == "Workbench"
        and r["kernel"] == "Python 3.10"
        and r["status"] == "ENABLED"
    )
    app["runtime_identifier"] = older  # still Workbench / Python 3.10 / Standard: nothing to change
    assert not make_plan(client, spec)[0].has_changes


def test_an_older_builds_active_deployment_is_observed_as_superseded(fake: FakeCML, client) -> None:
    spec = load_spec(MULTI)
    bootstrap(client, spec)
    first, prd_id, newer = _another_build(client, spec)
    _until(lambda: client.models.get_build(prd_id, first.model.id, newer.id).status, "built")
    dep = client.models.create_deployment(prd_id, first.model.id, newer.id, cpu=1, memory=2)
    _until(lambda: client.models.get_deployment(prd_id, first.model.id, newer.id, dep.id).status, "deployed")
    fake.deployments[first.deployment.id]["status"] = "deployed"  # caught before CML stops it
    seen = observe(client, spec).models["wine-red"]
    assert (seen.build.id, seen.deployment.id) == (newer.id, dep.id)
    assert [d.id for d in seen.other_deployments] == [first.deployment.id]
    fake.calls.clear()


def test_a_built_build_is_preferred_to_a_newer_one_still_building(fake: FakeCML, client) -> None:
    spec = load_spec(MULTI)
    bootstrap(client, spec)
    first, _, newer = _another_build(client, spec)
    fake.builds[newer.id]["status"] = "building"
    fake._progress.pop(newer.id, None)  # it stays building
    assert observe(client, spec).models["wine-red"].build.id == first.build.id
    fake.calls.clear()


@pytest.mark.parametrize("status", ["build failed", "failed", "timedout", "Build Failed"])
def test_a_failed_build_is_never_the_versions_build(fake: FakeCML, client, status: str) -> None:
    spec = load_spec(MULTI)
    bootstrap(client, spec)
    build_id = observe(client, spec).models["wine-red"].build.id
    fake.builds[build_id]["status"] = status
    assert observe(client, spec).models["wine-red"].build is None
    assert make_plan(client, spec)[0].get("build.wine-red").kind == "build"
    fake.calls.clear()


def _another_build(client, spec):
    """The observed wine-red chain, the PRD project's id, and a second build of the same version."""
    first = observe(client, spec).models["wine-red"]
    prd_id = client.projects.find(spec.projects.prd.name).id
    newer = client.models.create_build(
        prd_id,
        first.model.id,
        registered_model_version_id=first.version.model_version_id,
        runtime_identifier=first.build.runtime_identifier,
    )
    return first, prd_id, newer


def _until(status, wanted: str) -> None:
    """Read until the status is ``wanted`` (the fake moves a build or deployment on at each read)."""
    while status().lower() != wanted:
        pass


def _long_histories(fake: FakeCML, job_id: str, copies: int) -> None:
    """``copies`` failed runs of the job and as many MLflow runs, all newer than what exists."""
    run = next(r for r in fake.job_runs.values() if r["job_id"] == job_id)
    logged = next(iter(fake.experiment_runs.values()))
    for _ in range(copies):
        rid, when = fake._public_id(), fake._now()
        fake.job_runs[rid] = {**run, "id": rid, "status": "ENGINE_FAILED", "created_at": when}
        fake._owner[rid] = fake._owner[run["id"]]
        mid = fake._public_id()
        fake.experiment_runs[mid] = {**logged, "id": mid, "start_time": when}
        fake._owner[mid] = fake._owner[logged["id"]]


def test_a_plan_reads_one_bounded_page_of_runs_however_long_the_history(fake: FakeCML, client) -> None:
    """A plan costs the same on a job run a thousand times: it reads the latest 20 runs of each
    model's job and the latest 50 MLflow runs of its experiment, one page each."""
    spec = load_spec(MULTI)
    bootstrap(client, spec)
    job_id = fake.named(fake.jobs, "train-red")[0]["id"]
    _long_histories(fake, job_id, 120)
    fake.calls.clear()
    seen = observe(client, spec).models["wine-red"]
    job_pages = [c for c in fake.reads() if c.path.endswith(f"/jobs/{job_id}/runs")]
    mlflow_pages = [c for c in fake.reads() if "/experiments/" in c.path and c.path.endswith("/runs")]
    assert [int(c.query["page_size"]) for c in job_pages] == [20]
    assert mlflow_pages and all(int(c.query["page_size"]) == 50 for c in mlflow_pages)
    assert len(mlflow_pages) == len(spec.models)  # one page per model's experiment
    assert seen.last_success_run is None  # the success is older than the 20 runs read
    fake.calls.clear()
