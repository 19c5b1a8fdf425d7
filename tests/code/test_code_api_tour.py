"""Part 2: the MLflow API tour scripts, run against the session's trained store."""

from __future__ import annotations

import json

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def reads(store, trained, tmp_path_factory):
    """The read-only tour runs, batched (they only read the store; 04 writes CSVs into tmp folders)."""
    out = tmp_path_factory.mktemp("batch")
    (out / "none").mkdir()
    job = store.job
    return out, store.run_all(
        {
            "03-id": job("api_tour/03_Get_Experiment.py", trained.experiment_id),
            "03-name": job("api_tour/03_Get_Experiment.py", "--name", "part1-only"),
            "03-env": job("api_tour/03_Get_Experiment.py", EXPERIMENT_ID=trained.experiment_id),
            "03-unknown": job("api_tour/03_Get_Experiment.py", "999999"),
            "04-default": job("api_tour/04_Predict_Batch.py", cwd=out),
            "04-registered": job(
                "api_tour/04_Predict_Batch.py",
                "--output",
                str(out / "registered.csv"),
                MODEL_URI=f"models:/{trained.registered_name}/1",
            ),
            "04-no-model": job(
                "api_tour/04_Predict_Batch.py", "--experiment", "part1-only", cwd=out / "none"
            ),
        }
    )


def test_01_active_experiment(store, trained):
    ran = trained.tour_active.ok()
    run_id, experiment_id = ran.ids()
    assert f"active run: {run_id}" in ran.stdout
    assert "after end_run, active run: None" in ran.stdout
    assert ran.last_line().endswith("status=FINISHED")
    client = store.client()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.experiment_id == experiment_id
    assert client.get_experiment(experiment_id).name == "mlflow-api-tour"


def test_02_log_artifacts_and_tags(store, trained, tmp_path, features):
    run_id, experiment_id = trained.tour_artifacts.ok().ids()
    client = store.client()
    assert client.get_experiment(experiment_id).name == "tour-artifacts"
    assert [a.path for a in client.list_artifacts(run_id)] == ["states"]
    assert sorted(a.path for a in client.list_artifacts(run_id, "states")) == [
        "states/features.txt",
        "states/json.json",
    ]
    client.download_artifacts(run_id, "states", str(tmp_path))
    assert (tmp_path / "states" / "features.txt").read_text().splitlines() == features
    described = json.loads((tmp_path / "states" / "json.json").read_text())
    assert (described["rows"], described["target"]) == (4898, "quality")
    tags = client.get_run(run_id).data.tags
    assert {k: tags.get(k) for k in ("team", "release.candidate", "release.version")} == {
        "team": "ml-platform",
        "release.candidate": "RC1",
        "release.version": "1.0.0",
    }


def test_03_get_experiment_by_positional_id_lists_latest_runs_first(reads, trained):
    out = reads[1]["03-id"].ok().stdout
    assert f"experiment_id: {trained.experiment_id}" in out
    assert "name: wine-quality-test" in out
    assert "lifecycle_stage: active" in out
    assert "artifact_location: " in out
    assert out.index(trained.cml_run) < out.index(trained.plain_run)  # newest first
    cml_line = next(line for line in out.splitlines() if trained.cml_run in line)
    assert "FINISHED" in cml_line and "model=wine_model" in cml_line and "r2=" in cml_line


def test_03_get_experiment_by_name_flag(reads, trained):
    out = reads[1]["03-name"].ok().stdout
    assert "name: part1-only" in out
    assert trained.part1_run in out
    assert trained.plain_run not in out


def test_03_get_experiment_from_environment(reads, trained):
    out = reads[1]["03-env"].ok().stdout
    assert f"experiment_id: {trained.experiment_id}" in out
    assert trained.cml_run in out


def test_03_unknown_experiment_is_one_line_exit_2(reads):
    reads[1]["03-unknown"].one_line_error(2, "no experiment with id or name '999999'")


def test_04_default_model_is_the_latest_run_that_logged_one(reads, trained):
    assert reads[1]["04-default"].ok().last_line().endswith(f"model_uri=runs:/{trained.cml_run}/wine_model")


def test_04_writes_one_plausible_prediction_per_row(reads, wine_data, features):
    out, ran = reads[0], reads[1]["04-default"].ok()
    assert ran.last_line().startswith(f"rows=4898 output={out / 'predictions.csv'} ")
    scored = pd.read_csv(out / "predictions.csv")
    assert len(scored) == 4898
    assert list(scored.columns) == [*features, "quality", "prediction"]
    assert scored["prediction"].between(3, 9).all()
    assert 5.0 < scored["prediction"].mean() < 7.0  # the data's mean quality is ~5.9
    assert scored["quality"].tolist() == pd.read_csv(wine_data)["quality"].tolist()


def test_04_registered_model_uri_gives_the_same_predictions(reads, trained):
    out, ran = reads[0], reads[1]["04-registered"].ok()
    assert ran.last_line().endswith(f"model_uri=models:/{trained.registered_name}/1")
    registered = pd.read_csv(out / "registered.csv")["prediction"]
    assert registered.tolist() == pd.read_csv(out / "predictions.csv")["prediction"].tolist()


def test_04_experiment_without_a_model_is_one_line_exit_1(reads):
    ran = reads[1]["04-no-model"]
    ran.one_line_error(1, "no finished run", "'part1-only'", "02_Experiment_log_model.py")
    assert not (reads[0] / "none" / "predictions.csv").exists()
