"""code/amp/deploy.py (the AMP's deploy step) writes the AMP's variables into a copy of the v2 flagship
spec, which then loads as a valid spec; the apply it runs is captured, not run."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from automation.spec import check_files, load_spec

REPO = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("amp_deploy", REPO / "code" / "amp" / "deploy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of what the AMP uploads: the spec, the code and requirements (a CML project folder)."""
    (tmp_path / "pyproject.toml").write_text("")
    shutil.copytree(REPO / "code", tmp_path / "code", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "requirements.txt", tmp_path / "requirements.txt")
    (tmp_path / "specs").mkdir()
    shutil.copy(REPO / "specs" / "wine-quality.yaml", tmp_path / "specs" / "wine-quality.yaml")
    monkeypatch.chdir(tmp_path)
    for name in ("CMLOPS_AMP_SPEC", "CMLOPS_AMP_TARGET"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_amp_variables_land_in_the_v2_spec(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    variables = {"MODEL_NAME": "wine-amp", "ENDPOINT_NAME": "wine-amp-endpoint", "DEV_PROJECT": "amp-dev",
                 "PRD_PROJECT": "amp-prd", "CPU": "2", "MEMORY": "4", "REPLICAS": "3"}  # fmt: skip
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    script = _script()
    ran: list[list[str]] = []
    monkeypatch.setattr(script.subprocess, "call", lambda command: ran.append(command) or 0)
    assert script.main() == 0
    (command,) = ran
    assert command[-4:] == ["--target", "cml", "apply", "specs/wine-quality.amp.yaml"]
    spec = load_spec(project / "specs" / "wine-quality.amp.yaml", environ={})
    check_files(spec)
    assert list(spec.models) == ["wine-amp"] and spec.model_named().job == "train"
    endpoint = spec.model_named().endpoint
    assert (endpoint.model_name, endpoint.cpu, endpoint.memory, endpoint.replicas) == (
        "wine-amp-endpoint",
        2,
        4,
        3,
    )
    assert (spec.projects.dev.name, spec.projects.prd.name) == ("amp-dev", "amp-prd")
    # the scorer looks the renamed endpoint up; the cml target's override follows the new model name
    assert spec.applications["wine-scorer"].environment["MODEL_NAME"] == "wine-amp-endpoint"
    assert spec.for_target("cml").models["wine-amp"].endpoint.replicas == 2


def test_a_v1_spec_is_refused_with_the_way_out(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    shutil.copy(
        REPO / "tests" / "fixtures" / "specs" / "wine-quality-v1.yaml", project / "specs" / "old.yaml"
    )
    monkeypatch.setenv("CMLOPS_AMP_SPEC", "specs/old.yaml")
    script = _script()
    monkeypatch.setattr(script.subprocess, "call", lambda command: pytest.fail("must not apply"))
    assert script.main() == 2
    assert "cmlops migrate specs/old.yaml --in-place" in capsys.readouterr().out
