"""Converged, half-done, interrupted and lost-answer workspaces: apply finishes the work, never twins."""

from __future__ import annotations

import re

import pytest
from fakes.fake_cml import FakeCML

from automation.errors import ServerError
from automation.reconcile import Applier, make_plan
from automation.workflows.bootstrap import apply_spec, bootstrap

# What a converged plan of the test spec must read, one GET each (and nothing else):
#   runtimes (pick the newest match) 1, DEV and PRD projects by name 2, the one DEV source folder
#   (code/) 1, the job by name 1, its latest runs 1, the experiment by name 1, its runs 1, the
#   registered model by name 1 and its versions 1, the PRD model by name 1, its builds 1, the
#   deployments of its one built build 1.
CONVERGED_READS = 13


def assert_one_of_each(fake: FakeCML, spec) -> None:
    """No twin of anything the spec describes, and the work is finished."""
    assert len(fake.named(fake.projects, spec.projects.dev.name)) == 1
    assert len(fake.named(fake.projects, spec.projects.prd.name)) == 1
    assert len(fake.jobs) == 1
    assert len(fake.job_runs) == 1
    assert len(fake.registered_models) == 1 and len(fake.model_versions) == 1
    assert len(fake.models) == 1
    assert len(fake.builds) == 1 and next(iter(fake.builds.values()))["status"] == "built"
    assert len(fake.deployments) == 1 and next(iter(fake.deployments.values()))["status"] == "deployed"
    dev_id = fake.named(fake.projects, spec.projects.dev.name)[0]["id"]
    assert sorted(fake.files[dev_id]) == ["code/02_Experiment_log_model.py", "code/wine.py"]


def test_converged_plan_is_empty_and_apply_writes_nothing(converged: FakeCML, client, spec) -> None:
    the_plan, obs, files = make_plan(client, spec)
    reads = len(converged.reads())
    print(f"\nconverged plan of the test spec: {reads} GET requests")
    assert not the_plan.has_changes, [a for a in the_plan.actions if a.is_change]
    assert {a.kind for a in the_plan.actions} == {"noop"}
    assert the_plan.reads == reads == len(converged.calls)  # reads only
    assert reads <= CONVERGED_READS
    paths = [(c.path, tuple(sorted(c.query.items()))) for c in converged.calls]
    assert len(paths) == len(set(paths)), "a converged plan reads nothing twice"

    result = Applier(client, spec, obs, local_files=files).run(the_plan)
    assert result.writes == 0
    assert converged.writes() == []
    _, _, nothing = apply_spec(client, spec)
    assert nothing is None and converged.writes() == []


def test_half_done_projects_exist_job_missing(fake: FakeCML, client, spec) -> None:
    client.projects.create(spec.projects.dev.name, description=spec.projects.dev.description)
    client.projects.create(spec.projects.prd.name, description=spec.projects.prd.description)
    fake.calls.clear()

    the_plan, _, _ = make_plan(client, spec)
    assert the_plan.get("project.dev").kind == "noop" and the_plan.get("project.prd").kind == "noop"
    assert the_plan.get("job.train wine model").kind == "create"

    bootstrap(client, spec)
    assert fake.write_summary() == [
        "POST /api/v2/projects/{project}/files",
        "POST /api/v2/projects/{project}/files",
        "POST /api/v2/projects/{project}/jobs",
        "POST /api/v2/projects/{project}/jobs/{job}/runs",
        "POST /api/v2/registry/models",
        "POST /api/v2/projects/{project}/models",
        "POST /api/v2/projects/{project}/models/{model}/builds",
        "POST /api/v2/projects/{project}/models/{model}/builds/{build}/deployments",
    ]
    assert_one_of_each(fake, spec)


def test_crash_at_the_job_create_then_only_the_missing_parts_are_created(fake: FakeCML, client, spec) -> None:
    fake.interrupt("POST", r"/jobs$")
    with pytest.raises(KeyboardInterrupt):
        apply_spec(client, spec)
    fake.calls.clear()
    apply_spec(client, spec)
    assert fake.write_summary() == [
        "POST /api/v2/projects/{project}/jobs",
        "POST /api/v2/projects/{project}/jobs/{job}/runs",
        "POST /api/v2/registry/models",
        "POST /api/v2/projects/{project}/models",
        "POST /api/v2/projects/{project}/models/{model}/builds",
        "POST /api/v2/projects/{project}/models/{model}/builds/{build}/deployments",
    ]
    assert_one_of_each(fake, spec)


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", r"/runs/[^/]+$"),  # waiting for the job run
        ("GET", r"/builds/[^/]+$"),  # the build was created, not yet built
        ("GET", r"/deployments/[^/]+$"),  # the deployment was created, not yet deployed
    ],
    ids=["job-run-wait", "build-wait", "deployment-wait"],
)
def test_apply_interrupted_while_waiting_is_finished_by_the_next_apply(
    fake: FakeCML, client, spec, method: str, path: str
) -> None:
    fake.interrupt(method, path)
    with pytest.raises(KeyboardInterrupt):
        apply_spec(client, spec)
    the_plan, _, _ = make_plan(client, spec)
    waits = [a.resource for a in the_plan.actions if a.kind == "wait"]
    assert len(waits) == 1  # the next plan waits for the workload in flight instead of starting a twin
    apply_spec(client, spec)
    assert_one_of_each(fake, spec)
    assert not make_plan(client, spec)[0].has_changes


CREATES = pytest.mark.parametrize(
    "path",
    [
        r"^/api/v2/projects$",
        r"/files$",
        r"/jobs$",
        r"/runs$",
        r"^/api/v2/registry/models$",
        r"/models$",
        r"/builds$",
        r"/deployments$",
    ],
    ids=["project", "files", "job", "job-run", "registry", "model", "build", "deployment"],
)


def _posts(fake: FakeCML, path: str) -> list:
    return [c for c in fake.calls if c.method == "POST" and re.search(path, c.path)]


def _sent_again(fake: FakeCML, path: str) -> int:
    """How often the failed create (same path, same body) was sent after it failed."""
    posts = _posts(fake, path)
    failed = next(c for c in posts if c.status not in (200,))
    return sum(1 for c in posts if c.path == failed.path and c.body == failed.body) - 1


@CREATES
def test_answer_lost_after_the_server_acted_is_found_not_twinned(
    fake: FakeCML, client, spec, path: str
) -> None:
    fake.fail("POST", path, connection_error=True, after=True)

    apply_spec(client, spec)  # the create happened: it is looked up and used, in the same apply

    assert _sent_again(fake, path) == 0
    assert_one_of_each(fake, spec)
    assert not make_plan(client, spec)[0].has_changes


@CREATES
def test_a_create_that_answered_500_but_happened_is_finished_without_a_twin(
    fake: FakeCML, client, spec, path: str
) -> None:
    fake.fail("POST", path, status=500, after=True)

    apply_spec(client, spec)

    assert _posts(fake, path)[0].status == 500
    assert _sent_again(fake, path) == 0  # looked up by name/parent instead of sent again
    assert_one_of_each(fake, spec)


@CREATES
def test_a_create_that_answered_500_and_did_not_happen_is_sent_once_more(
    fake: FakeCML, client, spec, path: str
) -> None:
    fake.fail("POST", path, status=500)  # before the server acted

    apply_spec(client, spec)

    assert _posts(fake, path)[0].status == 500 and _sent_again(fake, path) == 1
    assert_one_of_each(fake, spec)


def test_a_create_that_keeps_failing_raises_and_the_next_apply_finishes(fake: FakeCML, client, spec) -> None:
    fake.fail("POST", r"^/api/v2/projects$", status=502, times=2)
    with pytest.raises(ServerError) as caught:
        apply_spec(client, spec)
    assert caught.value.exit_code == 1 and caught.value.status == 502
    assert len(_posts(fake, r"^/api/v2/projects$")) == 2  # the create, a look-up, one more create
    assert fake.projects == {}

    apply_spec(client, spec)
    assert_one_of_each(fake, spec)


def test_transient_errors_on_reads_are_retried(fake: FakeCML, client, spec) -> None:
    fake.fail("GET", r"^/api/v2/projects$", status=503, times=2)
    fake.fail("GET", r"/builds/[^/]+$", connection_error=True)
    bootstrap(client, spec)
    assert_one_of_each(fake, spec)
    assert client.http.stats.retries >= 3


def test_two_applies_crossing_on_uploads_leave_one_copy_of_each_file(fake: FakeCML, client, spec) -> None:
    """Both planned the uploads before either ran them: CML keeps both copies (``wine(1).py``); the
    second apply removes the copy its upload made, and the next plan is empty."""
    bootstrap(client, spec)
    dev_id = next(p["id"] for p in fake.projects.values() if p["name"] == spec.projects.dev.name)
    fake.files[dev_id].clear()  # the project's files are gone; two applies start at once
    first, obs1, files1 = make_plan(client, spec)
    second, obs2, files2 = make_plan(client, spec)
    assert first.get("files.dev").kind == second.get("files.dev").kind == "upload"
    Applier(client, spec, obs1, local_files=files1).run(first)
    assert sorted(fake.files[dev_id]) == ["code/02_Experiment_log_model.py", "code/wine.py"]
    result = Applier(client, spec, obs2, local_files=files2).run(second)
    assert sorted(fake.files[dev_id]) == ["code/02_Experiment_log_model.py", "code/wine.py"]
    files_step = next(s for s in result.steps if s.resource == "files.dev")
    assert "2 twin(s) of a concurrent upload removed" in files_step.detail
    assert not make_plan(client, spec)[0].has_changes


def test_a_copy_of_another_size_is_not_taken_for_a_twin(fake: FakeCML, client, spec) -> None:
    bootstrap(client, spec)
    dev_id = next(p["id"] for p in fake.projects.values() if p["name"] == spec.projects.dev.name)
    fake.files[dev_id]["code/wine(1).py"] = b"a user's own file"
    sizes = {"code/wine.py": len(fake.files[dev_id]["code/wine.py"])}
    assert client.projects.remove_upload_twins(dev_id, sizes) == 0
    assert "code/wine(1).py" in fake.files[dev_id]
