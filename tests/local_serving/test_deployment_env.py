"""A deployment's model server inherits nothing of the server's shell: no CML_*/CDSW_*, no other secrets."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from automation.local.state.records import Build, Deployment
from automation.local.workloads.deployments import DeploymentSupervisor


def _supervisor() -> DeploymentSupervisor:
    ws = SimpleNamespace(
        log=logging.getLogger("test.deployments"),
        mlflow=SimpleNamespace(env=lambda: {"MLFLOW_TRACKING_URI": "sqlite:///x.db"}),
        serving_module="automation.local.serving",
        builds=SimpleNamespace(
            envs=SimpleNamespace(python_path=lambda python: ["/wrapper", f"/serving{python}"])
        ),
        paths=SimpleNamespace(project_dir=lambda project_id: Path("/state/projects") / project_id),
    )
    return DeploymentSupervisor(ws)  # type: ignore[arg-type]


@pytest.fixture
def leaky_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDSW_APIV2_KEY", "leak-canary")
    monkeypatch.setenv("CML_API_KEY", "leak-canary")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "leak-canary")
    monkeypatch.setenv("SOME_SHELL_SETTING", "not for models")
    monkeypatch.setenv("PYTHONPATH", "/server/only")


def _clean(env: dict[str, str]) -> None:
    assert not [k for k in env if k.startswith(("CML_", "CDSW_"))]
    assert "leak-canary" not in env.values()
    assert "SOME_SHELL_SETTING" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["MODEL_SETTING"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert env["MLFLOW_TRACKING_URI"] == "sqlite:///x.db"


DEPLOYMENT = Deployment(id="d", project_id="p1", environment={"MODEL_SETTING": "1"})


@pytest.mark.usefixtures("leaky_shell")
def test_a_model_server_runs_with_its_builds_interpreter_and_nothing_of_the_shell() -> None:
    build = {
        "python": "3.10",
        "python_executable": "/state/envs/models/k/python3.10/bin/python",
        "path_entries": ["/state/envs/models/k/python3.10/bin", "/cache/runtime/bin"],
    }
    cmd, env = _supervisor()._process(
        DEPLOYMENT, Build.from_doc({"id": "b", **build}), Path("/state/deployments/d.json")
    )
    assert cmd == [build["python_executable"], "-m", "automation.local.serving", "/state/deployments/d.json"]
    _clean(env)
    assert env["PATH"].split(os.pathsep)[:2] == build["path_entries"]
    assert env["PYTHONPATH"] == os.pathsep.join(["/wrapper", "/serving3.10"])  # not the server's
    assert env["HOME"] == "/state/projects/p1"


@pytest.mark.usefixtures("leaky_shell")
def test_a_build_made_before_runtimes_is_served_by_cmlops_interpreter() -> None:
    cmd, env = _supervisor()._process(
        DEPLOYMENT, Build(id="b", extra={"model_uri": "models:/m/1"}), Path("/d.json")
    )
    assert cmd[0] == sys.executable
    _clean(env)
    assert str(Path(sys.executable).parent) == env["PATH"].split(os.pathsep)[0]  # cmlops' interpreter
