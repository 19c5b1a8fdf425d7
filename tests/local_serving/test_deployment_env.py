"""A deployment's model server inherits nothing of the server's shell: no CML_*/CDSW_*, no other secrets."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from automation.local.workloads.deployments import DeploymentSupervisor


def test_the_deployment_environment_drops_cml_and_cdsw_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDSW_APIV2_KEY", "leak-canary")
    monkeypatch.setenv("CML_API_KEY", "leak-canary")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "leak-canary")
    monkeypatch.setenv("SOME_SHELL_SETTING", "not for models")
    ws = SimpleNamespace(
        log=logging.getLogger("test.deployments"),
        mlflow=SimpleNamespace(env=lambda: {"MLFLOW_TRACKING_URI": "sqlite:///x.db"}),
    )
    env = DeploymentSupervisor(ws)._env({"environment": {"MODEL_SETTING": "1"}})  # type: ignore[arg-type]
    assert not [k for k in env if k.startswith(("CML_", "CDSW_"))]
    assert "leak-canary" not in env.values()
    assert "SOME_SHELL_SETTING" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["MODEL_SETTING"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert str(Path(sys.executable).parent) == env["PATH"].split(os.pathsep)[0]  # cmlops' interpreter
    assert env["MLFLOW_TRACKING_URI"] == "sqlite:///x.db"
