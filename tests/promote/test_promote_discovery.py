"""promote finds the candidate as MLflow records it, and takes a version the training script
registered itself as that run's version: nothing registered twice, one build."""

from __future__ import annotations

import pytest
from promote_support import BETTER, sequence, serving_version, train

from automation.errors import InputError
from automation.workflows.promotion import promote

REGISTER = "POST /api/v2/registry/models"
BUILD_POST = "POST /api/v2/projects/{project}/models/{model}/builds"


def test_a_run_whose_script_registered_its_model_is_promoted_without_a_second_version(
    converged, client, spec
) -> None:
    converged.script_registers = spec.model_named(None).registered_name
    run_id = train(converged, client, spec, BETTER)
    (version,) = [
        v
        for v in converged.model_versions.values()
        if v["model_version_metadata"]["mlflow_metadata"]["run_id"] == run_id
    ]
    report = promote(client, spec)
    assert report.outcome == "promoted", report.error
    assert report.candidate["run_id"] == run_id and report.candidate["number"] == version["number"] == 2
    assert report.steps[0].step == "build"  # no "register" step
    assert REGISTER not in sequence(converged)
    assert sequence(converged).count(BUILD_POST) == 1
    assert len(converged.model_versions) == 2 and serving_version(converged) == 2


@pytest.mark.parametrize("style", ["mlflow2", "mlflow3"])
def test_a_run_logged_without_cmlops_tag_is_the_candidate(converged, client, spec, style: str) -> None:
    converged.model_logging = style
    run_id = train(converged, client, spec, BETTER)
    report = promote(client, spec)
    assert report.outcome == "promoted", report.error
    assert report.candidate["run_id"] == run_id
    assert [s.step for s in report.steps][:2] == ["register", "build"]


def test_promote_refuses_a_run_id_of_another_project(converged, client, spec) -> None:
    run_id = train(converged, client, spec, BETTER)
    run = converged.experiment_runs[run_id]
    run["data"]["tags"].append({"key": "cml.project_id", "value": "othr-proj-ectx-0001"})
    with pytest.raises(InputError, match="belongs to project 'othr-proj-ectx-0001'"):
        promote(client, spec, run_id=run_id)
    assert converged.writes() == []


def test_promote_refuses_a_run_that_logged_no_model(converged, client, spec) -> None:
    converged.model_logging = "none"
    run_id = train(converged, client, spec, BETTER)
    with pytest.raises(InputError, match=r"did not log a model under 'model'.*no model/MLmodel"):
        promote(client, spec, run_id=run_id)
    assert converged.writes() == []
