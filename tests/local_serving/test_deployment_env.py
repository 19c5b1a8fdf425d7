"""A deployment's model server does not inherit the workspace's CML_*/CDSW_* variables."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from automation.local.workloads.deployments import DeploymentSupervisor


def test_the_deployment_environment_drops_cml_and_cdsw_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDSW_APIV2_KEY", "leak-canary")
    monkeypatch.setenv("CML_API_KEY", "leak-canary")
    monkeypatch.setenv("CMLOPS_KEEP", "kept")
    ws = SimpleNamespace(
        log=logging.getLogger("test.deployments"),
        mlflow=SimpleNamespace(env=lambda: {"MLFLOW_TRACKING_URI": "sqlite:///x.db"}),
    )
    env = DeploymentSupervisor(ws)._env({"environment": {"MODEL_SETTING": "1"}})  # type: ignore[arg-type]
    assert not [k for k in env if k.startswith(("CML_", "CDSW_"))]
    assert "leak-canary" not in env.values()
    assert env["CMLOPS_KEEP"] == "kept" and env["MODEL_SETTING"] == "1"
    assert env["MLFLOW_TRACKING_URI"] == "sqlite:///x.db"
