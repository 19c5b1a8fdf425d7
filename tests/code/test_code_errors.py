"""Failures a user can cause end with one error line and a non-zero exit; the download path end to end."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

DATA_SHA256 = "66b071bfe464e02aaef19d61fe28ce99b6f75efebb81be0fb58555713c3ab7a6"


@pytest.fixture(scope="module")
def runs(store, trained, data_server, repo_copy, tmp_path_factory):
    """The failing runs plus one download run (in its own store), batched."""
    nowhere = tmp_path_factory.mktemp("nowhere")
    good, corrupt = repo_copy("download-good"), repo_copy("download-corrupt")
    job = store.job
    results = store.run_all(
        {
            "missing-data": job("01_Experiment.py", cwd=nowhere, WINE_DATA=str(nowhere / "nope.csv")),
            "usage": job("02_Experiment_log_model.py", "--alpha", "lots", cwd=nowhere),
            "bad-model-uri": job("api_tour/04_Predict_Batch.py", "models:/no-such-model/7", cwd=nowhere),
            # The training job as on a fresh laptop: no data, no tracking URI (MLflow's default store).
            "download": job(
                "02_Experiment_log_model.py",
                code_dir=good / "code",
                cwd=good,
                WINE_DATA=None,
                WINE_DATA_URL=data_server.good,
                MLFLOW_TRACKING_URI=None,
            ),
            "corrupt": job(
                "01_Experiment.py",
                code_dir=corrupt / "code",
                cwd=corrupt,
                WINE_DATA=None,
                WINE_DATA_URL=data_server.corrupt,
            ),
        }
    )
    return {"nowhere": nowhere, "good": good, "corrupt": corrupt}, results


def test_missing_data_file_is_one_line_exit_2(runs):
    paths, results = runs
    ran = results["missing-data"]
    line = ran.one_line_error(2, "WINE_DATA", str(paths["nowhere"] / "nope.csv"))
    assert ran.stderr.strip() == line  # nothing else on stderr either
    assert ran.stdout == ""


def test_bad_hyperparameter_is_one_line_exit_2(runs):
    runs[1]["usage"].one_line_error(2, "--alpha must be a number, got 'lots'")


def test_bad_model_uri_is_one_line_exit_1(runs):
    runs[1]["bad-model-uri"].one_line_error(1, "MLflow:", "no-such-model")
    assert not (runs[0]["nowhere"] / "predictions.csv").exists()


def default_store_client(root: Path):
    """A client on the store MLflow uses when MLFLOW_TRACKING_URI is unset, with ``root`` as cwd."""
    from mlflow import MlflowClient

    database = root / "mlflow.db"  # MLflow >= 3.7; older versions default to a ./mlruns file store
    return MlflowClient(f"sqlite:///{database}" if database.exists() else str(root / "mlruns"))


def test_training_downloads_the_data_and_works_without_a_tracking_uri(store, trained, runs):
    """No WINE_DATA, no cache, no MLFLOW_TRACKING_URI: 02 downloads into <repo>/data/ and trains."""
    paths, results = runs
    ran = results["download"].ok()
    cached = paths["good"] / "data" / "wine-quality.csv"
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == DATA_SHA256
    assert f"data: {cached}" in ran.stdout
    run_id, experiment_id = ran.ids()
    client = default_store_client(paths["good"])
    run = client.get_run(run_id)
    assert client.get_experiment(experiment_id).name == "wine-quality-test"
    assert run.data.tags["model_artifact_path"] == "model"
    assert [m.name for m in client.search_logged_models(experiment_ids=[experiment_id])] == ["model"]
    # Same data, same seed, same hyper-parameters: the same metrics as the session's default run.
    assert run.data.metrics == store.client().get_run(trained.plain_run).data.metrics


def test_scripts_refuse_a_corrupted_download_and_cache_nothing(runs):
    paths, results = runs
    results["corrupt"].one_line_error(2, "SHA-256", DATA_SHA256, "nothing was cached", "WINE_DATA=")
    assert not (paths["corrupt"] / "data").exists()
