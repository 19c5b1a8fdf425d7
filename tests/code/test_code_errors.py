"""Failures a user can cause end with one error line and a non-zero exit; the download path end to end."""

from __future__ import annotations

import hashlib

import pytest

DATA_SHA256 = "66b071bfe464e02aaef19d61fe28ce99b6f75efebb81be0fb58555713c3ab7a6"


@pytest.fixture(scope="module")
def runs(store, trained, data_server, repo_copy, tmp_path_factory):
    """The failing runs plus one download run (the only writer), batched."""
    nowhere = tmp_path_factory.mktemp("nowhere")
    good, corrupt = repo_copy("download-good"), repo_copy("download-corrupt")
    job = store.job
    results = store.run_all(
        {
            "missing-data": job("01_Experiment.py", cwd=nowhere, WINE_DATA=str(nowhere / "nope.csv")),
            "usage": job("02_Experiment_log_model.py", "--alpha", "lots", cwd=nowhere),
            "bad-model-uri": job("api_tour/04_Predict_Batch.py", "models:/no-such-model/7", cwd=nowhere),
            "download": job(
                "01_Experiment.py",
                "--experiment",
                "downloaded",
                code_dir=good / "code",
                cwd=good,
                WINE_DATA=None,
                WINE_DATA_URL=data_server.good,
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


def test_scripts_download_verify_and_cache_the_data(store, trained, runs):
    """No WINE_DATA, no cache: the script downloads into <repo>/data/ and trains on it."""
    paths, results = runs
    ran = results["download"].ok()
    cached = paths["good"] / "data" / "wine-quality.csv"
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == DATA_SHA256
    assert f"data: {cached}" in ran.stdout
    # Same data, same seed, same hyper-parameters: the same metrics as 02's default run.
    run_id, _ = ran.ids()
    client = store.client()
    assert client.get_run(run_id).data.metrics == client.get_run(trained.plain_run).data.metrics


def test_scripts_refuse_a_corrupted_download_and_cache_nothing(runs):
    paths, results = runs
    results["corrupt"].one_line_error(2, "SHA-256", DATA_SHA256, "nothing was cached", "WINE_DATA=")
    assert not (paths["corrupt"] / "data").exists()
