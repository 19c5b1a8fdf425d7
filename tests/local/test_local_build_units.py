"""Pieces of the build worker that need no live workspace: requirements, the time limit, the worker's exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from automation.errors import EXIT_BUILD_FAILED, EXIT_USAGE
from automation.local.workloads.builds import DEFAULT_TIME_LIMIT, build_time_limit
from automation.local.workloads.runtime.build_envs import model_requirements


def test_a_models_requirements_keep_packages_but_never_mlflow() -> None:
    text = (
        "mlflow==3.17.2\n"
        "MLflow-Skinny>=2.19  # the runtime's own\n"
        "mlflow_cml_plugin\n"
        "# a comment\n"
        "--extra-index-url https://example.invalid/simple\n"
        "-r other.txt\n"
        "scikit-learn==1.7.2\n"
        "cloudpickle==3.1.3  # pickles\n"
        "\n"
        "scikit-learn==1.7.2\n"
        "mlflowx==1.0\n"
    )
    assert model_requirements(text) == ["cloudpickle==3.1.3", "mlflowx==1.0", "scikit-learn==1.7.2"]
    assert model_requirements("") == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", DEFAULT_TIME_LIMIT),
        ("12.5", 12.5),
        ("0", DEFAULT_TIME_LIMIT),
        ("-3", DEFAULT_TIME_LIMIT),
        ("x", DEFAULT_TIME_LIMIT),
    ],
)
def test_the_time_limit_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: float
) -> None:
    monkeypatch.setenv("CMLOPS_LOCAL_BUILD_TIMEOUT", raw)
    assert build_time_limit() == expected


def _worker(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "automation.local.serving.worker", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_the_worker_exits_10_with_a_one_line_reason_or_2_on_bad_usage(tmp_path: Path) -> None:
    assert _worker("model").returncode == EXIT_USAGE
    assert _worker("--build", "b1", "frobnicate", "x").returncode == EXIT_USAGE
    done = _worker("--build", "b1", "model", str(tmp_path))
    assert done.returncode == EXIT_BUILD_FAILED
    assert "not an MLflow model (no MLmodel file)" in done.stderr.strip().splitlines()[-1]
    (tmp_path / "m.py").write_text("def predict(x):\n    return x\n")
    assert _worker("function", str(tmp_path), "m.py", "predict").returncode == 0
    missing = _worker("function", str(tmp_path), "m.py", "forecast")
    assert missing.returncode == EXIT_BUILD_FAILED and "forecast" in missing.stderr.splitlines()[-1]
