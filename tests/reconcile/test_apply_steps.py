"""What apply does inside one step, on the fake: which project gets the git source, what a job
update keeps, what is gated before a build, which builds are never reused, how an interrupted job
replacement is finished, and what each step reports."""

from __future__ import annotations

import json
import re

import pytest
from fakes.fake_cml import FakeCML
from fakes.specs import REPO, make_spec

from automation.errors import GateFailed
from automation.reconcile import make_plan
from automation.reconcile.ownership import MARK_ENV
from automation.spec import load_spec
from automation.workflows.bootstrap import apply_spec

MULTI = REPO / "tests" / "reconcile" / "spec-v2-multi.yaml"
GIT = "https://github.com/example/wine.git"


def _details(result) -> dict[str, str]:
    """Each step's detail by resource key."""
    return {s.resource: s.detail for s in result.steps}


def test_only_the_dev_project_is_created_from_the_git_source(fake: FakeCML, client) -> None:
    spec = make_spec({"projects": {"dev": {"source": {"git_url": GIT, "git_ref": "main", "files": None}}}})
    apply_spec(client, spec)
    created = {c.body["name"]: c.body for c in fake.writes() if c.path == "/api/v2/projects"}
    assert (created["wine-test-dev"]["git_url"], created["wine-test-dev"]["git_ref"]) == (GIT, "main")
    assert "git_url" not in created["wine-test-prd"] and "git_ref" not in created["wine-test-prd"]


def test_a_job_environment_update_keeps_the_ownership_mark(converged: FakeCML, client) -> None:
    spec = make_spec({"training": {"job": {"environment": {"EXPERIMENT_NAME": "wine-test", "ALPHA": 0.7}}}})
    apply_spec(client, spec)
    patch = next(c for c in converged.writes() if c.method == "PATCH" and "/jobs/" in c.path)
    sent = json.loads(patch.body["environment"])  # a JSON string, as CML takes it
    assert sent == {"EXPERIMENT_NAME": "wine-test", "ALPHA": "0.7", MARK_ENV: "wine-test"}


def test_a_build_of_an_already_registered_version_is_gated_first(converged: FakeCML, client) -> None:
    """The version was registered before the gates were tightened; its build failed. Apply must not
    build it again without checking the gates."""
    spec = make_spec({"model": {"gates": {"thresholds": [{"metric": "r2", "min": 0.99}]}}})
    converged.builds[next(iter(converged.builds))]["status"] = "build failed"
    kinds = {a.resource: a.kind for a in make_plan(client, spec)[0].actions if a.is_change}
    assert kinds == {"build.wine-test-model": "build", "deployment.wine-test-model": "deploy"}
    converged.calls.clear()
    with pytest.raises(GateFailed, match=re.escape("r2=0.3418 (needs >= 0.99)")):
        apply_spec(client, spec)
    assert converged.writes() == []


@pytest.mark.parametrize("status", ["build failed", "failed", "timedout"])
def test_a_failed_build_of_the_version_is_never_reused(converged: FakeCML, client, status: str) -> None:
    failed = next(iter(converged.builds))
    converged.builds[failed]["status"] = status
    converged.calls.clear()
    _, _, result = apply_spec(client, make_spec())
    posted = [c for c in converged.writes() if converged.shape(c.path).endswith("/builds")]
    assert len(posted) == 1 and len(converged.builds) == 2
    new = next(b for b in converged.builds if b != failed)
    assert converged.builds[new]["status"] == "built"
    assert _details(result)["build.wine-test-model"] == f"build {new}"


def test_a_replacement_interrupted_before_the_old_job_was_deleted_makes_no_third_job(
    converged: FakeCML, client
) -> None:
    converged.job_patch_ignores = {"arguments"}
    spec = make_spec({"training": {"job": {"arguments": "--alpha 0.7"}}})
    old_id = next(iter(converged.jobs))
    converged.interrupt("DELETE", r"/jobs/")
    with pytest.raises(KeyboardInterrupt):
        apply_spec(client, spec)
    replacement = next(j for j in converged.jobs if j != old_id)  # made; the old one still there
    converged.calls.clear()
    _, _, result = apply_spec(client, spec)
    assert list(converged.jobs) == [replacement] and converged.jobs[replacement]["arguments"] == "--alpha 0.7"
    job_posts = [c for c in converged.writes() if converged.shape(c.path).endswith("/jobs")]
    assert job_posts == []  # the earlier replacement was found, not made again
    assert _details(result)["job.train wine model"] == (
        f"replaced job {old_id} by {replacement}: CML left arguments unchanged after the PATCH"
    )


def test_training_a_chain_starts_its_first_job_and_says_so(fake: FakeCML, client) -> None:
    _, _, result = apply_spec(client, load_spec(MULTI))
    detail = _details(result)
    red, white = detail["job_run.wine-red"], detail["job_run.wine-white"]
    assert re.fullmatch(r"started 'install' run \S+, run \S+ ENGINE_SUCCEEDED, MLflow run \S+", red), red
    # the second model's chain shares the install run the first one started: nothing started again
    assert re.fullmatch(r"run \S+ ENGINE_SUCCEEDED, MLflow run \S+", white), white


def test_each_step_reports_its_time_to_the_hundredth(converged: FakeCML, client) -> None:
    _, _, result = apply_spec(client, make_spec({"deployment": {"replicas": 2}}))
    assert result.steps and all(s.seconds == round(s.seconds, 2) >= 0 for s in result.steps)


def test_looking_for_an_active_run_before_starting_one_reads_one_page_of_five(fake: FakeCML, client) -> None:
    """``create_once`` asks whether a lost start made a run anyway: it reads the job's five latest runs."""
    apply_spec(client, make_spec())
    job_id = next(iter(fake.jobs))
    pages = [c for c in fake.reads() if c.path.endswith(f"/jobs/{job_id}/runs")]
    assert pages and {c.query.get("page_size") for c in pages} == {"5"}


def test_a_project_update_keeps_the_ownership_mark(converged: FakeCML, client) -> None:
    spec = make_spec({"projects": {"prd": {"description": "PRD, renamed"}}})
    assert {a.resource: a.kind for a in make_plan(client, spec)[0].actions if a.is_change} == {
        "project.prd": "update"
    }
    converged.calls.clear()
    _, _, result = apply_spec(client, spec)
    (patch,) = converged.writes()
    assert patch.method == "PATCH" and patch.body["description"] == "PRD, renamed"
    assert json.loads(patch.body["environment"]) == {MARK_ENV: "wine-test"}  # still the spec's project
    prd_id = next(p["id"] for p in converged.projects.values() if p["name"] == "wine-test-prd")
    assert [s.detail for s in result.steps] == [f"id {prd_id}"]


def test_an_endpoint_created_between_plan_and_apply_is_found_not_twinned(fake: FakeCML, client) -> None:
    """Everything up to the version exists; a concurrent run creates the PRD model after our plan
    said "create": apply adopts it."""
    from automation.reconcile import Applier

    spec = make_spec()
    apply_spec(client, spec)
    prd_id = next(p["id"] for p in fake.projects.values() if p["name"] == "wine-test-prd")
    endpoint = spec.model_named(None).endpoint
    client.models.delete(prd_id, next(iter(fake.models)))
    the_plan, obs, files = make_plan(client, spec)
    assert the_plan.get("endpoint.wine-test-model").kind == "create"
    registered = obs.models["wine-test-model"].registered.model_id
    theirs = client.models.create(prd_id, name=endpoint.model_name, registered_model_id=registered)
    fake.calls.clear()
    Applier(client, spec, obs, local_files=files).run(the_plan)
    assert list(fake.models) == [theirs.id]
    assert not [c for c in fake.writes() if c.method == "POST" and fake.shape(c.path).endswith("/models")]


def test_an_endpoint_description_update_reports_the_models_id(converged: FakeCML, client) -> None:
    _, _, result = apply_spec(client, make_spec({"deployment": {"description": "new words"}}))
    assert [(s.resource, s.detail) for s in result.steps] == [
        ("endpoint.wine-test-model", f"id {next(iter(converged.models))}")
    ]


def test_a_replaced_job_keeps_its_parent(fake: FakeCML, client) -> None:
    apply_spec(client, load_spec(MULTI))
    install = fake.named(fake.jobs, "install")[0]["id"]
    old = fake.named(fake.jobs, "train-red")[0]["id"]
    fake.job_patch_ignores = {"arguments"}
    spec = make_spec({"jobs": {"train-red": {"arguments": "--alpha 0.7"}}}, path=MULTI)
    _, _, result = apply_spec(client, spec)
    (new,) = fake.named(fake.jobs, "train-red")
    assert new["id"] != old and new["parent_id"] == install and new["arguments"] == "--alpha 0.7"
    assert _details(result)["job.train-red"].startswith(f"replaced job {old} by ")
