"""The suite's own rules, checked by running pytest on a small selection in a subprocess:
no silent skip under CI=true, skip reasons in the summary otherwise, and a per-test timeout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFORMANCE = "tests/conformance/test_client_conformance.py"


def pytest_run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    environ.update(env)
    environ["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_missing_swagger_under_ci_fails_the_run_with_a_message(tmp_path: Path) -> None:
    done = pytest_run(CONFORMANCE, CI="true", CML_SWAGGER=str(tmp_path / "absent.json"))
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert "CI=true and fixtures the suite needs are missing" in text
    assert "API v2 swagger not found" in text and "CML_SWAGGER" in text


def test_missing_browser_under_ci_fails_the_run_with_a_message(tmp_path: Path) -> None:
    done = pytest_run("tests/e2e/test_ui_browser.py", CI="true", CMLOPS_CHROMIUM=str(tmp_path / "absent"))
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert "CI=true and fixtures the suite needs are missing" in text
    assert "the web UI tests' browser is missing: Chromium" in text


def test_missing_swagger_outside_ci_skips_with_the_reason_in_the_summary(tmp_path: Path) -> None:
    done = pytest_run(CONFORMANCE, CML_SWAGGER=str(tmp_path / "absent.json"))
    assert done.returncode == 0, done.stdout[-2000:]
    assert "SKIPPED" in done.stdout and "API v2 swagger not found" in done.stdout
    assert "skipped" in done.stdout.splitlines()[-1]


def test_a_skip_inside_a_test_fails_under_ci(tmp_path: Path) -> None:
    probe = REPO / "tests" / f"test_zz_ci_probe_{os.getpid()}.py"
    probe.write_text(
        "import pytest\n\ndef test_skips():\n    pytest.skip('needs a thing that is not there')\n"
    )
    try:
        in_ci = pytest_run(str(probe), CI="true")
        outside = pytest_run(str(probe))
    finally:
        probe.unlink()
    assert in_ci.returncode == 1, in_ci.stdout[-2000:]
    assert "skipped under CI=true" in in_ci.stdout and "needs a thing that is not there" in in_ci.stdout
    assert outside.returncode == 0 and "SKIPPED" in outside.stdout
    assert "needs a thing that is not there" in outside.stdout  # -ra prints the reason


def test_a_hanging_test_fails_on_the_suite_timeout(tmp_path: Path) -> None:
    probe = REPO / "tests" / f"test_zz_hang_probe_{os.getpid()}.py"
    probe.write_text("import time\n\ndef test_hangs():\n    time.sleep(600)\n")
    try:
        done = pytest_run(str(probe), "-o", "timeout=2")  # the configured value, shortened for the test
    finally:
        probe.unlink()
    assert done.returncode == 1 and "Timeout" in done.stdout, done.stdout[-2000:]


def test_the_suite_configures_a_per_test_timeout() -> None:
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert int(config["tool"]["pytest"]["ini_options"]["timeout"]) >= 600
    assert any(dep.startswith("pytest-timeout") for dep in config["project"]["optional-dependencies"]["test"])
