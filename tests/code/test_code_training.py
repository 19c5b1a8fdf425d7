"""Part 1: what 01_Experiment.py and 02_Experiment_log_model.py log to MLflow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TUTORIAL_INPUT = [7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]
FINAL_LINE = re.compile(
    r"^run_id=(\w+) experiment_id=(\w+) rmse=(\d+\.\d{4}) mae=(\d+\.\d{4}) r2=(-?\d+\.\d{4})$"
)


def assert_good_metrics(metrics: dict[str, float]) -> None:
    assert set(metrics) == {"rmse", "mae", "r2"}
    assert metrics["r2"] > 0.05
    assert metrics["rmse"] < 1.0
    assert 0 < metrics["mae"] <= metrics["rmse"]


def run_artifact_dir(client, run_id: str) -> Path:
    """The run's own artifact folder on disk (the store is local)."""
    from mlflow.utils.file_utils import local_file_uri_to_path

    return Path(local_file_uri_to_path(client.get_run(run_id).info.artifact_uri))


def logged_model(client, experiment_id: str, run_id: str):
    """The MLflow 3 LoggedModel a run produced."""
    models = [
        m for m in client.search_logged_models(experiment_ids=[experiment_id]) if m.source_run_id == run_id
    ]
    assert len(models) == 1, models
    return models[0]


def test_01_logs_params_and_metrics_but_no_model(store, trained):
    client = store.client()
    run = client.get_run(trained.part1_run)
    assert run.data.params == {"alpha": "0.25", "l1_ratio": "0.75"}  # positional, tutorial-style
    assert_good_metrics(run.data.metrics)
    assert client.get_experiment(run.info.experiment_id).name == "part1-only"
    assert run.info.status == "FINISHED"
    assert "model_artifact_path" not in run.data.tags
    assert client.search_logged_models(experiment_ids=[run.info.experiment_id]) == []


def test_02_defaults(store, trained):
    client = store.client()
    run = client.get_run(trained.plain_run)
    assert client.get_experiment(run.info.experiment_id).name == "wine-quality-test"
    assert run.data.params == {"alpha": "0.5", "l1_ratio": "0.5"}
    assert_good_metrics(run.data.metrics)
    assert run.data.tags["model_artifact_path"] == "model"
    assert "cml.engine_id" not in run.data.tags
    assert "cml.project_id" not in run.data.tags
    assert client.search_model_versions(f"run_id = '{trained.plain_run}'") == []  # registration is opt-in


def test_02_final_line_matches_what_was_logged(store, trained):
    client = store.client()
    for run_id, ran in ((trained.plain_run, trained.plain), (trained.cml_run, trained.cml)):
        line = ran.last_line()
        match = FINAL_LINE.match(line)
        assert match, line
        assert match[1] == run_id
        assert match[2] == trained.experiment_id
        metrics = client.get_run(run_id).data.metrics
        for index, name in ((3, "rmse"), (4, "mae"), (5, "r2")):
            assert float(match[index]) == pytest.approx(metrics[name], abs=5e-5)


def test_02_as_a_cml_job_env_params_tags_and_registration(store, trained):
    client = store.client()
    run = client.get_run(trained.cml_run)
    assert run.data.params == {"alpha": "0.1", "l1_ratio": "0.2"}  # from ALPHA / L1_RATIO
    assert_good_metrics(run.data.metrics)
    assert run.data.tags["model_artifact_path"] == "wine_model"
    assert run.data.tags["cml.engine_id"] == "engine-abc123"
    assert run.data.tags["cml.project_id"] == "proj-xyz789"
    versions = client.search_model_versions(f"name = '{trained.registered_name}'")
    assert [(str(v.version), v.run_id) for v in versions] == [("1", trained.cml_run)]


def test_02_model_is_a_logged_model_and_a_copy_in_the_run_artifacts(store, trained):
    client = store.client()
    assert logged_model(client, trained.experiment_id, trained.plain_run).name == "model"
    assert logged_model(client, trained.experiment_id, trained.cml_run).name == "wine_model"
    # The copy sits in the run's own artifact folder (what CML's API v2 registers from). Look at the
    # files: MLflow's own listing would also show the logged model's files under the same name.
    for run_id, artifact in ((trained.plain_run, "model"), (trained.cml_run, "wine_model")):
        root = run_artifact_dir(client, run_id)
        assert {"MLmodel", "input_example.json"} <= {p.name for p in (root / artifact).iterdir()}


def test_02_signature_is_the_eleven_features_as_double(store, trained, features):
    from mlflow.models import Model

    client = store.client()
    model = logged_model(client, trained.experiment_id, trained.cml_run)
    meta = Model.load(model.artifact_location)
    inputs = meta.signature.inputs
    assert inputs.input_names() == features
    assert {spec.type.name for spec in inputs.inputs} == {"double"}
    assert meta.saved_input_example_info is not None
    run_copy = Model.load(run_artifact_dir(client, trained.cml_run) / "wine_model")
    assert run_copy.signature == meta.signature


def test_tutorial_input_with_ints_scores_between_3_and_9(store, trained):
    import mlflow
    import pandas as pd

    model = mlflow.pyfunc.load_model(
        logged_model(store.client(), trained.experiment_id, trained.cml_run).artifact_location
    )
    schema = model.metadata.get_input_schema()
    frame = pd.DataFrame([TUTORIAL_INPUT], columns=schema.input_names())
    # What a server does with the tutorial's {"input": [[...]]}: cast each column to the signature's type.
    frame = frame.astype({spec.name: spec.type.to_numpy() for spec in schema.inputs})
    prediction = float(model.predict(frame)[0])
    assert 3 < prediction < 9
