"""A training script written the way CML users write it, with nothing of cmlops in it, goes to PRD.

The script uses MLflow 2.19's API (``mlflow.sklearn.log_model(model, "model")``: the runtime's
mlflow-skinny), sets no cmlops tag, and installs nothing itself: the project's install job does,
with CML's usual ``!pip3 install -r requirements.txt`` kernel line. cmlops finds the logged model from
what MLflow recorded, registers it, builds and deploys it, and the endpoint answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from automation.spec.loader import load_spec
from automation.workflows.bootstrap import bootstrap
from e2e.local_bootstrap import Bootstrapped

pytestmark = pytest.mark.e2e

TRAIN = """\
import os

import mlflow
import mlflow.sklearn
import pandas as pd
from sklearn.linear_model import LinearRegression

mlflow.set_experiment(os.environ.get("EXPERIMENT_NAME", "user-exp"))
with mlflow.start_run():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0], "b": [0.0, 1.0, 0.0, 2.0, 1.0]})
    y = 3 * X["a"] - X["b"]
    model = LinearRegression().fit(X, y)
    mlflow.log_metric("rmse", 0.0)
    mlflow.log_metric("r2", 1.0)
    mlflow.sklearn.log_model(model, "model", input_example=X.head(2))
"""

INSTALL = "!pip3 install -r requirements.txt\n"

SPEC = """\
version: 1
name: user-script
targets:
  local: {kind: local}
runtime: {editor: Workbench, kernel: Python 3.10, edition: Standard}
projects:
  dev:
    name: user-script-dev
    source: {files: [train.py, install.py, requirements.txt]}
  prd:
    name: user-script-prd
training:
  experiment: user-exp
  install: {name: install, script: install.py}
  job:
    name: train
    script: train.py
    environment: {EXPERIMENT_NAME: user-exp}
model:
  registered_name: user-script-model
  artifact_path: model
  gates:
    thresholds: [{metric: r2, min: 0.5}]
deployment:
  model_name: user-script-endpoint
  smoke:
    input: {"dataframe_split": {"columns": ["a", "b"], "data": [[2.0, 1.0]]}}
    expect: {count: 1, min: 4.9, max: 5.1}
"""


def test_a_plain_mlflow_2_19_script_is_registered_and_deployed(boot: Bootstrapped, tmp_path: Path) -> None:
    repo = tmp_path / "user-repo"
    repo.mkdir()
    (repo / "pyproject.toml").write_text("")
    (repo / "train.py").write_text(TRAIN)
    (repo / "install.py").write_text(INSTALL)
    (repo / "requirements.txt").write_text("scikit-learn\n")
    (repo / "spec.yaml").write_text(SPEC)
    spec = load_spec(repo / "spec.yaml")
    result = bootstrap(boot.client, spec)
    assert result.smoke["predictions"] == pytest.approx([5.0], abs=1e-6)
    run_id = result.summary["mlflow_run_id"]
    dev = boot.client.projects.find("user-script-dev")
    experiment = boot.client.experiments.find(dev.id, "user-exp")
    run = next(r for r in boot.client.experiments.list_runs(dev.id, experiment.id) if r.id == run_id)
    assert "model_artifact_path" not in run.tags  # found from what MLflow recorded, not a cmlops tag
    assert result.summary["model_version"] is not None
