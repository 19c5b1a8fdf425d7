"""Each way a bootstrap can fail: the error class, its exit code, and what its message names."""

from __future__ import annotations

import pytest
from fakes.fake_cml import FakeCML
from fakes.specs import make_spec

from automation.clock import FakeClock
from automation.errors import (
    BuildFailed,
    CmlopsError,
    DeploymentFailed,
    GateFailed,
    JobRunFailed,
    SmokeTestFailed,
    WaitTimeout,
)
from automation.workflows.bootstrap import bootstrap

SERVING_POSTS = (
    "POST /api/v2/registry/models",
    "POST /api/v2/projects/{project}/models",
    "POST /api/v2/projects/{project}/models/{model}/builds",
)


def test_job_run_failure_exit_9_names_the_run(fake: FakeCML, client, spec) -> None:
    fake.job_outcome = "ENGINE_FAILED"
    with pytest.raises(JobRunFailed) as caught:
        bootstrap(client, spec)
    run_id = next(iter(fake.job_runs))
    assert caught.value.exit_code == 9
    assert run_id in caught.value.message and "ENGINE_FAILED" in caught.value.message
    assert run_id in caught.value.hint  # where its log is
    assert not set(SERVING_POSTS) & set(fake.write_summary())


def test_build_failure_exit_10(fake: FakeCML, client, spec) -> None:
    fake.build_outcome = "build failed"
    with pytest.raises(BuildFailed) as caught:
        bootstrap(client, spec)
    build_id = next(iter(fake.builds))
    assert caught.value.exit_code == 10
    assert build_id in caught.value.message and "build failed" in caught.value.message
    assert build_id in caught.value.hint
    assert fake.deployments == {}


def test_deployment_failure_exit_11(fake: FakeCML, client, spec) -> None:
    fake.deploy_outcome = "failed"
    with pytest.raises(DeploymentFailed) as caught:
        bootstrap(client, spec)
    dep_id = next(iter(fake.deployments))
    assert caught.value.exit_code == 11
    assert dep_id in caught.value.message and "'failed'" in caught.value.message
    assert fake.predictions == []  # no smoke test against a failed deployment


def test_never_finishing_build_times_out_exit_5(fake: FakeCML, spec) -> None:
    fake.build_outcome = None
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as caught:
        bootstrap(fake.client(clock), spec)
    err = caught.value
    build_id = next(iter(fake.builds))
    assert err.exit_code == 5
    assert f"model build {build_id}" in err.message  # the step
    assert err.last_status == "pending" and "'pending'" in err.message  # the last status
    assert "900s" in err.message and "timeouts.build" in err.hint  # the spec timeout to raise
    assert fake.deployments == {}


def test_job_run_wait_uses_the_longer_of_the_job_timeout_and_timeouts_job_run(fake: FakeCML) -> None:
    spec = make_spec({"training": {"job": {"timeout": 3600}}, "timeouts": {"job_run": 600}})
    fake.job_outcome = None
    with pytest.raises(WaitTimeout) as caught:
        bootstrap(fake.client(), spec)
    assert caught.value.last_status == "ENGINE_RUNNING"
    assert "3600s" in caught.value.message  # CML may run the job this long; do not give up earlier
    assert "timeouts.job_run" in caught.value.hint


def test_gate_failure_exit_6_and_nothing_built(fake: FakeCML, client, spec) -> None:
    fake.run_metrics = {"rmse": 0.71, "mae": 0.55, "r2": 0.05}
    with pytest.raises(GateFailed) as caught:
        bootstrap(client, spec)
    err = caught.value
    assert err.exit_code == 6
    assert "r2=0.05" in err.message and ">= 0.2" in err.message
    assert [r["metric"] for r in err.results if not r["passed"]] == ["r2"]
    assert not set(SERVING_POSTS) & set(fake.write_summary())
    assert fake.registered_models == {} and fake.models == {} and fake.builds == {}


def test_smoke_prediction_out_of_range_exit_7(fake: FakeCML, client, spec) -> None:
    fake.prediction_response = {"prediction": [42.0]}
    with pytest.raises(SmokeTestFailed) as caught:
        bootstrap(client, spec)
    assert caught.value.exit_code == 7
    assert "42.0 is above 9" in caught.value.message
    assert next(iter(fake.deployments.values()))["status"] == "deployed"  # it was deployed, then checked


def test_smoke_with_a_model_error_answer_exit_7(fake: FakeCML, client, spec) -> None:
    fake.prediction_response = None
    with pytest.raises(SmokeTestFailed) as caught:
        bootstrap(client, spec)
    assert "not a finite number" in caught.value.message


def test_after_a_job_failure_the_next_bootstrap_runs_the_job_again(fake: FakeCML, client, spec) -> None:
    fake.job_outcome = "ENGINE_FAILED"
    with pytest.raises(JobRunFailed):
        bootstrap(client, spec)
    fake.job_outcome = "ENGINE_SUCCEEDED"
    fake.calls.clear()
    result = bootstrap(client, spec)
    assert result.plan.get("job_run.wine-test-model").kind == "run"
    assert len(fake.jobs) == 1 and len(fake.job_runs) == 2
    assert result.summary["smoke_prediction"] == [5.9]


@pytest.mark.parametrize(
    "knob, failed, error",
    [("build_outcome", "build failed", BuildFailed), ("deploy_outcome", "failed", DeploymentFailed)],
)
def test_after_a_serving_failure_the_next_bootstrap_tries_again(
    fake: FakeCML, client, spec, knob, failed, error
):
    setattr(fake, knob, failed)
    with pytest.raises(error):
        bootstrap(client, spec)
    setattr(fake, knob, "built" if knob == "build_outcome" else "deployed")
    result = bootstrap(client, spec)
    assert result.summary["deployment_status"] == "deployed" and result.summary["build_status"] == "built"
    assert len(fake.job_runs) == 1 and len(fake.model_versions) == 1  # training is not redone
    assert len(fake.active_deployments()) == 1


def test_run_logged_to_another_experiment_is_a_clear_error(fake: FakeCML, client) -> None:
    spec = make_spec({"training": {"job": {"environment": {"EXPERIMENT_NAME": "somewhere-else"}}}})
    with pytest.raises(CmlopsError) as caught:
        bootstrap(client, spec)
    err = caught.value
    assert err.exit_code == 1
    assert (
        "'wine-test'" in err.message and "'model'" in err.message and next(iter(fake.job_runs)) in err.message
    )
    assert "models.wine-test-model.experiment" in err.hint
    assert fake.registered_models == {}
