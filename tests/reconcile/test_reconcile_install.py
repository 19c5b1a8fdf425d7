"""The dependency step (v1 training.install, a v2 job the training job follows): CML starts the
training run when the install run succeeds; apply starts only the chain's root."""

from __future__ import annotations

import pytest
from fakes.fake_cml import FakeCML
from fakes.specs import make_spec

from automation.errors import JobRunFailed
from automation.reconcile import make_plan
from automation.workflows.bootstrap import bootstrap

INSTALL = {"training": {"install": {"name": "install deps", "script": "code/install_dependencies.py"}}}
JOBS = "/api/v2/projects/{project}/jobs"
RUNS = "/api/v2/projects/{project}/jobs/{job}/runs"


def _jobs_by_name(fake: FakeCML) -> dict[str, dict]:
    return {j["name"]: j for j in fake.jobs.values()}


def test_install_job_is_created_and_run_before_training(fake: FakeCML, client) -> None:
    spec = make_spec(INSTALL)
    the_plan, _, _ = make_plan(client, spec)
    resources = [a.resource for a in the_plan.actions]
    assert (
        resources.index("job.install deps")
        < resources.index("job.train wine model")
        < resources.index("job_run.wine-test-model")
    )
    run = the_plan.get("job_run.wine-test-model")
    assert "started from 'install deps', the first job of its chain" in run.reason
    assert run.depends_on == ["job.install deps", "job.train wine model"]
    assert the_plan.get("job.train wine model").depends_on[-1] == "job.install deps"

    bootstrap(client, spec)
    jobs = _jobs_by_name(fake)
    install, train = jobs["install deps"], jobs["train wine model"]
    assert install["script"] == "code/install_dependencies.py"
    assert install["runtime_identifier"] == train["runtime_identifier"]
    assert train["parent_id"] == install["id"] and train["type"] == "dependent"  # CML's own dependency
    run_creates = [c for c in fake.writes() if fake.shape(c.path) == RUNS]
    assert [c.path.split("/jobs/")[1].split("/")[0] for c in run_creates] == [install["id"]]  # the root only
    (install_run,) = [r for r in fake.job_runs.values() if r["job_id"] == install["id"]]
    (train_run,) = [r for r in fake.job_runs.values() if r["job_id"] == train["id"]]
    assert install_run["status"] == train_run["status"] == "ENGINE_SUCCEEDED"
    assert train_run["created_at"] >= install_run["finished_at"]  # started by the parent's success

    fake.calls.clear()
    again, _, _ = make_plan(client, spec)
    assert not again.has_changes and fake.writes() == []


def test_a_failed_install_stops_before_training(fake: FakeCML, client) -> None:
    fake.job_outcome = "ENGINE_FAILED"
    with pytest.raises(JobRunFailed):
        bootstrap(client, make_spec(INSTALL))
    train = _jobs_by_name(fake)["train wine model"]
    assert [r for r in fake.job_runs.values() if r["job_id"] == train["id"]] == []


def test_changing_the_install_step_retrains(converged: FakeCML, client) -> None:
    spec = make_spec(INSTALL)
    bootstrap(client, spec)
    moved = make_spec(
        {
            "training": {
                "install": {"name": "install deps", "script": "code/install_dependencies.py", "timeout": 60}
            }
        }
    )
    the_plan, _, _ = make_plan(client, moved)
    assert the_plan.get("job.install deps").changes == {"timeout": [900, 60]}
    assert the_plan.get("job_run.wine-test-model").kind == "run"


def test_install_and_training_jobs_need_distinct_names() -> None:
    from automation.errors import SpecError

    with pytest.raises(SpecError, match=r"training\.install\.name must differ"):
        make_spec(
            {"training": {"install": {"name": "train wine model", "script": "code/install_dependencies.py"}}}
        )
