"""A training script that registers its own model (``mlflow.register_model`` or ``log_model(...,
registered_model_name=...)``): its version is the run's registered version, never a second one."""

from __future__ import annotations

import pytest
from fakes.fake_cml import FakeCML

from automation.reconcile import make_plan
from automation.workflows.bootstrap import apply_spec, bootstrap


def _versions(fake: FakeCML, name: str) -> list[dict]:
    rmids = {m["model_id"] for m in fake.registered_models.values() if m["name"] == name}
    return [v for v in fake.model_versions.values() if v["model_id"] in rmids]


@pytest.mark.parametrize("style", ["mlflow2", "mlflow3"])
def test_bootstrap_reuses_the_version_the_script_registered(fake: FakeCML, client, spec, style: str) -> None:
    fake.model_logging = style
    fake.script_registers = spec.model_named(None).registered_name
    bootstrap(client, spec)
    (version,) = _versions(fake, spec.model_named(None).registered_name)  # no second version
    (run_id,) = fake.experiment_runs
    assert version["model_version_metadata"]["mlflow_metadata"]["run_id"] == run_id
    assert not any(c.method == "POST" and c.path == "/api/v2/registry/models" for c in fake.calls)
    (build,) = fake.builds.values()  # one build, of that version
    assert build["registered_model_version_id"] == version["model_version_id"]
    fake.calls.clear()
    assert not make_plan(client, spec)[0].has_changes


def test_a_retrain_whose_script_registers_builds_that_version_once(converged: FakeCML, client, spec) -> None:
    converged.script_registers = spec.model_named(None).registered_name
    the_plan, _, _ = make_plan(client, spec, retrain=True)
    assert (
        the_plan.get("model_version.wine-test-model").kind == "register"
    )  # planned: the run does not exist yet
    apply_spec(client, spec, retrain=True)
    versions = _versions(converged, spec.model_named(None).registered_name)
    assert sorted(v["number"] for v in versions) == [1, 2]  # bootstrap's and the script's
    posts = [c for c in converged.calls if c.method == "POST" and c.path == "/api/v2/registry/models"]
    assert posts == []
    newest = max(versions, key=lambda v: v["number"])
    builds = [
        b for b in converged.builds.values() if b["registered_model_version_id"] == newest["model_version_id"]
    ]
    assert len(builds) == 1
    assert not make_plan(client, spec)[0].has_changes


def test_the_registry_alone_ties_the_run_to_its_version(fake: FakeCML, client, spec) -> None:
    """Nothing on the run says where the model is (as for an MLflow 3 run whose model lives in a
    logged-model record), but a version of the spec's model names the run: that run is the one."""
    fake.model_logging = "none"
    fake.script_registers = spec.model_named(None).registered_name
    bootstrap(client, spec)
    (run_id,) = fake.experiment_runs
    for run in fake.experiment_runs.values():
        run["data"]["registered_model_metadata"] = []  # a workspace that does not show it on the run
    (version,) = _versions(fake, spec.model_named(None).registered_name)
    assert version["model_version_metadata"]["mlflow_metadata"]["run_id"] == run_id
    assert len(fake.builds) == 1
    assert not make_plan(client, spec)[0].has_changes


def test_a_version_under_another_name_is_not_the_specs(fake: FakeCML, client, spec) -> None:
    fake.script_registers = "someone-elses-model"
    bootstrap(client, spec)
    (mine,) = _versions(
        fake, spec.model_named(None).registered_name
    )  # cmlops registered the spec's name once
    (theirs,) = _versions(fake, "someone-elses-model")
    assert (
        mine["model_version_metadata"]["mlflow_metadata"]["run_id"]
        == (theirs["model_version_metadata"]["mlflow_metadata"]["run_id"])
    )
    (build,) = fake.builds.values()
    assert build["registered_model_version_id"] == mine["model_version_id"]
    assert not make_plan(client, spec)[0].has_changes
