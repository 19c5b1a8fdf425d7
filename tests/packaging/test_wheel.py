"""From a wheel, as a new user installs it: `cmlops init` in an empty folder, then `cmlops bootstrap`.

The wheel is built here, offline (``pip wheel --no-build-isolation``), from a copy of the source
tree, and installed (not editable) into a fresh virtualenv that borrows the system's dependencies
(``--system-site-packages``), so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("automation", "specs", "code", "setup.py", "pyproject.toml", "README.md", "LICENSE")
SOURCES += ("MANIFEST.in", "requirements.txt", "CHANGELOG.md")
EXAMPLE = "automation/examples/wine-quality/"


def _run(
    cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(
                path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".cmlops")
            )
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("wheel")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        str(out),
        ".",
    ]
    built = _run(cmd, cwd=src, env=dict(os.environ))
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("cmlops-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    root = tmp_path_factory.mktemp("venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root)], check=True
    )
    python = root / "bin" / "python"
    env = _clean_env()
    installed = _run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], cwd=root, env=env
    )
    assert installed.returncode == 0, installed.stderr
    return root


def _clean_env() -> dict[str, str]:
    """The user's environment: no PYTHONPATH pointing at a source checkout."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_the_wheel_carries_the_example_and_the_license(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    with zipfile.ZipFile(wheel) as zf:
        for rel in (
            "specs/wine-quality.yaml",
            "requirements.txt",
            "code/02_Experiment_log_model.py",
            "code/wine.py",
        ):
            assert zf.read(EXAMPLE + rel) == (REPO / rel).read_bytes(), (
                rel
            )  # copied at build time, never edited
        metadata = zf.read("cmlops-0.1.0.dist-info/METADATA").decode()
    assert "cmlops-0.1.0.dist-info/licenses/LICENSE" in names
    assert (
        "automation/local/workloads/runtime/standard-python.txt" in names
    )  # the local runtime's package set
    assert "License-Expression: Apache-2.0" in metadata and "Project-URL: Homepage" in metadata
    assert not any("__pycache__" in n for n in names)
    assert not any(n.startswith(("tests/", "bench/")) for n in names)


@pytest.mark.e2e
def test_init_then_bootstrap_from_the_installed_wheel(venv: Path, tmp_path: Path, wine_data: str) -> None:
    bin_ = venv / "bin"
    env = {**_clean_env(), "WINE_DATA": wine_data, "PATH": f"{bin_}{os.pathsep}{os.environ['PATH']}"}
    where = _run(
        [str(bin_ / "python"), "-c", "import automation; print(automation.__file__)"], cwd=tmp_path, env=env
    )
    assert where.stdout.strip().startswith(str(venv)), where.stdout  # the wheel, not the checkout

    project = tmp_path / "wine"
    made = _run([str(bin_ / "cmlops"), "init", str(project)], cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    assert (project / "specs/wine-quality.yaml").is_file() and (
        project / ".github/workflows/cmlops.yml"
    ).is_file()
    assert "cmlops bootstrap specs/wine-quality.yaml" in made.stdout

    try:
        boot = _run(
            [str(bin_ / "cmlops"), "-o", "json", "bootstrap", "specs/wine-quality.yaml"],
            cwd=project,
            env=env,
            timeout=600,
        )
        assert boot.returncode == 0, boot.stderr[-3000:]
        result = json.loads(boot.stdout)  # stdout is one JSON document ...
        assert boot.stderr.strip()  # ... and the progress went to stderr
        prediction = result["summary"]["smoke_prediction"]
        assert len(prediction) == 1 and 3 <= prediction[0] <= 9
        assert (project / ".cmlops" / "api_key").is_file()  # the state lives in the new project
    finally:
        _run([str(bin_ / "cmlops"), "local", "stop"], cwd=project, env=env)
