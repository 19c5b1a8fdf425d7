"""code/wine.py in-process: the data lookup order, download checks, split, metrics and settings."""

from __future__ import annotations

import argparse
import hashlib
import socket

import pytest

DATA_SHA256 = "66b071bfe464e02aaef19d61fe28ce99b6f75efebb81be0fb58555713c3ab7a6"


@pytest.fixture
def no_env(monkeypatch):
    for name in ("WINE_DATA", "WINE_DATA_URL", "ALPHA", "L1_RATIO", "EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/wine-quality.csv"


# --- lookup order ---------------------------------------------------------------------------------


def test_explicit_path_wins_over_env(wine, wine_data, no_env, tmp_path):
    no_env.setenv("WINE_DATA", str(tmp_path / "elsewhere.csv"))
    assert wine.locate_data(str(wine_data), cache_dir=tmp_path) == wine_data


def test_env_path_wins_over_cache(wine, wine_data, no_env, tmp_path):
    (tmp_path / "wine-quality.csv").write_text("not it")
    no_env.setenv("WINE_DATA", str(wine_data))
    assert wine.locate_data(cache_dir=tmp_path) == wine_data


@pytest.mark.parametrize("use_flag", [True, False], ids=["--data", "WINE_DATA"])
def test_named_path_that_does_not_exist_is_an_error_naming_its_source(wine, no_env, tmp_path, use_flag):
    missing = tmp_path / "missing.csv"
    if not use_flag:
        no_env.setenv("WINE_DATA", str(missing))
    with pytest.raises(wine.WineError) as err:
        wine.locate_data(str(missing) if use_flag else None, cache_dir=tmp_path)
    assert ("--data" if use_flag else "WINE_DATA") in str(err.value)
    assert str(missing) in str(err.value)
    assert err.value.exit_code == 2


def test_download_writes_a_verified_cache_that_later_calls_reuse(wine, no_env, tmp_path, data_server):
    path = wine.locate_data(cache_dir=tmp_path, url=data_server.good)
    assert path == tmp_path / "wine-quality.csv"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == DATA_SHA256
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wine-quality.csv"]  # no partial files left
    # The cache is used: a URL that would fail is never contacted.
    assert wine.locate_data(cache_dir=tmp_path, url=data_server.missing) == path


def test_download_url_comes_from_wine_data_url(wine, no_env, tmp_path, data_server):
    no_env.setenv("WINE_DATA_URL", data_server.good)
    assert wine.locate_data(cache_dir=tmp_path / "cache").is_file()


def test_wine_data_may_be_a_url_downloaded_into_the_cache(wine, no_env, tmp_path, data_server):
    no_env.setenv("WINE_DATA", data_server.good)
    path = wine.locate_data(cache_dir=tmp_path)
    assert path == tmp_path / "wine-quality.csv"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == DATA_SHA256
    no_env.setenv("WINE_DATA", data_server.corrupt)  # a verified cache is the same bytes: reused
    assert wine.locate_data(cache_dir=tmp_path) == path
    path.unlink()
    with pytest.raises(wine.WineError, match="nothing was cached"):
        wine.locate_data(cache_dir=tmp_path)
    assert not path.exists()


def test_corrupted_download_is_refused_and_not_cached(wine, no_env, tmp_path, data_server):
    with pytest.raises(wine.WineError) as err:
        wine.locate_data(cache_dir=tmp_path / "cache", url=data_server.corrupt)
    assert "SHA-256" in str(err.value) and DATA_SHA256 in str(err.value)
    assert "nothing was cached" in str(err.value)
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("kind", ["http-404", "connection-refused"])
def test_failed_download_says_how_to_provide_the_file(wine, no_env, tmp_path, data_server, kind):
    url = data_server.missing if kind == "http-404" else closed_port_url()
    with pytest.raises(wine.WineError) as err:
        wine.locate_data(cache_dir=tmp_path, url=url)
    message = str(err.value)
    assert url in message and "WINE_DATA=" in message and str(tmp_path / "wine-quality.csv") in message
    assert ("HTTP 404" in message) == (kind == "http-404")
    assert list(tmp_path.iterdir()) == []


def test_a_tampered_cache_is_refused(wine, no_env, tmp_path, wine_data):
    (tmp_path / "wine-quality.csv").write_bytes(wine_data.read_bytes()[:-10])
    with pytest.raises(wine.WineError, match="delete it"):
        wine.locate_data(cache_dir=tmp_path)


# --- loading, split, metrics ------------------------------------------------------------------------


def test_load_data_has_the_expected_shape(wine, wine_data, features):
    frame = wine.load_data(wine_data)
    assert frame.shape == (4898, 12)
    assert list(frame.columns) == [*features, "quality"]
    assert list(wine.FEATURES) == features


def test_load_data_reads_the_semicolon_separated_uci_original(wine, wine_data, tmp_path):
    semicolon = tmp_path / "winequality-white.csv"
    semicolon.write_text(wine_data.read_text().replace(",", ";"))
    assert wine.load_data(semicolon).equals(wine.load_data(wine_data))


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('"fixed acidity","quality"\n7,6\n', "lacks column(s) volatile acidity"),
        (None, "'alcohol' has empty or non-numeric"),
    ],
    ids=["missing-columns", "non-numeric"],
)
def test_load_data_names_the_problem(wine, wine_data, tmp_path, content, needle):
    bad = tmp_path / "bad.csv"
    if content is None:  # the real file with one value made non-numeric
        lines = wine_data.read_text().splitlines()
        lines[5] = lines[5].rsplit(",", 2)[0] + ",lots,6"
        content = "\n".join(lines) + "\n"
    bad.write_text(content)
    with pytest.raises(wine.WineError) as err:
        wine.load_data(bad)
    assert needle in str(err.value) and str(bad) in str(err.value)


def test_split_is_seeded_75_25_and_float64(wine, wine_data):
    frame = wine.load_data(wine_data)
    first, second = wine.split_data(frame), wine.split_data(frame)
    assert (len(first.train_x), len(first.test_x)) == (3673, 1225)
    assert first.train_x.index.equals(second.train_x.index)
    assert set(first.train_x.dtypes.astype(str)) == {"float64"}
    assert first.train_y.name == "quality"


def test_eval_metrics_on_known_values(wine):
    assert wine.eval_metrics([5, 6, 7], [5, 6, 7]) == {"rmse": 0.0, "mae": 0.0, "r2": 1.0}
    metrics = wine.eval_metrics([4, 6], [5, 5])
    assert metrics["rmse"] == pytest.approx(1.0)
    assert metrics["mae"] == pytest.approx(1.0)
    assert metrics["r2"] == pytest.approx(0.0)


# --- settings -------------------------------------------------------------------------------------


def parse(wine, *argv):
    parser = argparse.ArgumentParser()
    wine.add_hyperparameter_args(parser)
    return wine.hyperparameters(parser.parse_args(list(argv)))


def test_hyperparameters_flag_over_env_over_default(wine, no_env):
    assert parse(wine) == (0.5, 0.5)
    no_env.setenv("ALPHA", "0.3")
    no_env.setenv("L1_RATIO", "0.9")
    assert parse(wine) == (0.3, 0.9)
    assert parse(wine, "0.2", "0.1") == (0.2, 0.1)
    assert parse(wine, "--alpha", "0.7", "--l1-ratio", "0") == (0.7, 0.0)


@pytest.mark.parametrize(
    ("argv", "env", "needle"),
    [
        (["--alpha", "x"], {}, "--alpha must be a number, got 'x'"),
        (["--alpha", "-1"], {}, "--alpha must be a finite number >= 0.0"),
        (
            [],
            {"L1_RATIO": "1.5"},
            "environment variable L1_RATIO must be a finite number between 0.0 and 1.0",
        ),
        ([], {"ALPHA": "nan"}, "environment variable ALPHA"),
        (["0.1", "--alpha", "0.2"], {}, "--alpha was given both as a flag and positionally"),
    ],
)
def test_bad_hyperparameters_name_the_flag_or_variable(wine, no_env, argv, env, needle):
    for key, value in env.items():
        no_env.setenv(key, value)
    with pytest.raises(wine.WineError) as err:
        parse(wine, *argv)
    assert needle in str(err.value)
    assert err.value.exit_code == 2


def test_experiment_name_flag_over_env_over_default(wine, no_env):
    assert wine.experiment_name(None) == "wine-quality-test"
    no_env.setenv("EXPERIMENT_NAME", "from-env")
    assert wine.experiment_name(None) == "from-env"
    assert wine.experiment_name("from-flag") == "from-env".replace("env", "flag")


@pytest.mark.parametrize("name", ["", "a/b", "../x", " model"])
def test_artifact_name_must_be_one_simple_segment(wine, name):
    with pytest.raises(wine.WineError, match="MODEL_ARTIFACT_PATH"):
        wine.artifact_name(name, source="MODEL_ARTIFACT_PATH")
    assert wine.artifact_name("wine_model-2.0", source="x") == "wine_model-2.0"


def test_safe_uri_masks_credentials(wine):
    assert (
        wine.safe_uri("https://user:s3cret@mlflow.example:5000/path")
        == "https://***@mlflow.example:5000/path"
    )
    assert wine.safe_uri("sqlite:////tmp/mlflow.db") == "sqlite:////tmp/mlflow.db"


# --- failures -------------------------------------------------------------------------------------


def test_fail_prints_one_line_and_exits(wine, capsys):
    with pytest.raises(SystemExit) as exit_info:
        wine.fail("bad\nthing   here", 2)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "error: bad thing here\n"


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        ("wine", 1, "error: custom\n"),
        ("os", 1, "error: [Errno 13] Permission denied: 'out.csv'\n"),
    ],
)
def test_run_turns_expected_failures_into_one_line(wine, capsys, exc, code, line):
    def main():
        if exc == "wine":
            raise wine.WineError("custom", 1)
        raise PermissionError(13, "Permission denied", "out.csv")

    with pytest.raises(SystemExit) as exit_info:
        wine.run(main)
    assert exit_info.value.code == code
    assert capsys.readouterr().err == line


def test_run_lets_bugs_keep_their_traceback(wine):
    def main():
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        wine.run(main)
