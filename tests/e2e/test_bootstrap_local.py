"""End to end on the local workspace: the flagship spec from nothing to a serving endpoint.

One bootstrap per session (conftest ``boot``); the tests read its result, re-apply, call the endpoint
with good and bad input, restart the server, and finally run the CLI as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from automation.api.endpoint import endpoint_client, predict
from automation.errors import CmlopsError, InputError, NotFound
from automation.local import control
from automation.workflows.bootstrap import apply_spec
from automation.workflows.smoke import predictions_of
from e2e.local_bootstrap import REPO, Bootstrapped, client_for, pip_freeze

pytestmark = pytest.mark.e2e
TOLERANCE = 0.01
RESTART_DEADLINE = 90.0


def _access_key(boot: Bootstrapped) -> str:
    prd = boot.client.projects.find(boot.spec.projects.prd.name)
    model = boot.client.models.find(prd.id, boot.spec.model_named(None).endpoint.model_name)
    return model.access_key


def _endpoint(boot: Bootstrapped, api_key: str | None = None):
    return endpoint_client(boot.workspace.model_service_url, api_key or boot.workspace.api_key)


def _in_process_prediction(boot: Bootstrapped) -> float:
    """What the registered model version predicts for the tutorial's row, loaded with mlflow here."""
    import mlflow
    import numpy as np
    import pandas as pd

    uri = f"sqlite:///{boot.state_dir}/mlflow.db"
    saved = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        version = boot.result.summary["model_version"]
        model = mlflow.pyfunc.load_model(f"models:/{boot.spec.model_named(None).registered_name}/{version}")
        columns = model.metadata.get_input_schema().input_names()
        row = boot.spec.model_named(None).endpoint.smoke.input["input"][0]
        frame = pd.DataFrame([row], columns=columns).astype(float)
        return float(np.ravel(model.predict(frame))[0])
    finally:
        mlflow.set_tracking_uri(saved[0])
        mlflow.set_registry_uri(saved[1])


def test_bootstrap_serves_the_trained_models_prediction(boot: Bootstrapped) -> None:
    summary = boot.result.summary
    assert summary["deployment_status"] == "deployed"
    served = summary["smoke_prediction"]
    assert isinstance(served, list) and len(served) == 1
    expected = _in_process_prediction(boot)
    assert abs(float(served[0]) - expected) <= TOLERANCE, (served, expected)


def test_training_ran_on_the_faithful_runtime_and_left_cmlops_untouched(boot: Bootstrapped) -> None:
    """The install job put scikit-learn into the DEV project; training logged with mlflow-skinny 2.19."""
    dev = boot.client.projects.find(boot.spec.projects.dev.name)
    assert dev is not None
    install = boot.client.jobs.find(dev.id, boot.spec.ancestors(boot.spec.model_named(None).job)[0])
    train = boot.client.jobs.find(dev.id, boot.spec.model_named(None).job)
    assert install is not None and train is not None
    (install_run,) = list(boot.client.jobs.list_runs(dev.id, install.id))
    (train_run,) = list(boot.client.jobs.list_runs(dev.id, train.id))
    assert install_run.status == train_run.status == "ENGINE_SUCCEEDED"
    assert install_run.created_at <= train_run.created_at
    install_log = control.read_log(boot.state_dir, install_run.id)
    assert "scikit-learn" in install_log and "mlflow-skinny: 2.19.0" in install_log
    site = boot.state_dir / "envs" / dev.id / "python3.10" / "lib" / "python3.10" / "site-packages"
    assert (site / "sklearn").is_dir()  # in the project's environment, not the shared runtime
    train_log = control.read_log(boot.state_dir, train_run.id)
    # One id per run: the id the training script printed is the one cmlops registered.
    assert f"run_id={boot.result.summary['mlflow_run_id']} " in train_log
    assert pip_freeze() == boot.freeze_before


def test_reapply_makes_no_writes_and_plans_nothing(boot: Bootstrapped) -> None:
    before = boot.client.http.stats.writes()
    plan, _obs, result = apply_spec(boot.client, boot.spec)
    assert not plan.has_changes, plan.to_dict()
    assert result is None
    assert boot.client.http.stats.writes() == before


def test_malformed_model_input_is_an_input_error_naming_the_problem(boot: Bootstrapped) -> None:
    with pytest.raises(InputError) as err:
        predict(_endpoint(boot), _access_key(boot), {"input": [[1.0, 2.0, 3.0]]})
    message = str(err.value).lower()
    assert "got 3" in message and "11" in message, message  # what was sent and what the model takes
    assert "traceback" not in message


def test_wrong_bearer_key_on_an_auth_enabled_endpoint_is_refused(boot: Bootstrapped) -> None:
    assert boot.result.summary["auth_enabled"] is True
    with pytest.raises(CmlopsError) as err:
        predict(
            _endpoint(boot, "not-the-workspace-key"),
            _access_key(boot),
            boot.spec.model_named(None).endpoint.smoke.input,
        )
    assert "401" in str(err.value) or "403" in str(err.value), str(err.value)


def test_unknown_project_id_is_not_found(boot: Bootstrapped) -> None:
    with pytest.raises(NotFound) as err:
        boot.client.projects.get("no-such-project-0000")
    assert "/api/v2/projects/no-such-project-0000" in str(err.value)


def _poll_prediction(boot: Bootstrapped, access_key: str) -> Any:
    """The endpoint's prediction once it answers again (deployments come back from state)."""
    end = time.monotonic() + RESTART_DEADLINE
    last: object = None
    while time.monotonic() < end:
        try:
            return predictions_of(
                predict(_endpoint(boot), access_key, boot.spec.model_named(None).endpoint.smoke.input)
            )
        except CmlopsError as exc:
            last = exc
        time.sleep(0.5)
    pytest.fail(f"the endpoint did not answer within {RESTART_DEADLINE:.0f} s of a restart: {last}")


def test_endpoint_answers_the_same_after_a_server_restart(boot: Bootstrapped) -> None:
    access_key = _access_key(boot)
    before = boot.result.summary["smoke_prediction"]
    assert control.stop(boot.state_dir) is True
    boot.workspace = control.start(boot.state_dir, port=boot.port, wait=60)
    boot.client = client_for(boot.workspace)
    after = _poll_prediction(boot, access_key)
    assert after == pytest.approx(before, abs=1e-9)


def test_cli_bootstrap_on_a_converged_workspace_is_a_no_op_and_leaks_no_secret(boot: Bootstrapped) -> None:
    access_key = _access_key(boot)
    api_key = (boot.state_dir / "api_key").read_text().strip()
    assert api_key and access_key
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CML_", "CDSW_", "CMLOPS_"))}
    cmd = [sys.executable, "-m", "automation", "--state-dir", str(boot.state_dir), "-o", "json", "-v"]
    proc = subprocess.run(
        [*cmd, "bootstrap", "specs/wine-quality.yaml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["apply"]["writes"] == 0
    expected = boot.result.summary["smoke_prediction"]
    assert report["summary"]["smoke_prediction"] == pytest.approx(expected, abs=1e-9)
    assert proc.stderr, "-v should print a trace on stderr"
    for secret in (api_key, access_key):
        assert secret not in proc.stdout
        assert secret not in proc.stderr


def test_the_flagship_scorer_application_scores_the_tutorial_wine(boot: Bootstrapped) -> None:
    import re

    import requests

    from automation.local.control import application_url

    prd = boot.client.projects.find(boot.spec.projects.prd.name)
    app = boot.client.applications.find(prd.id, "wine-scorer")
    assert app is not None and app.status == "APPLICATION_RUNNING"
    url = application_url(boot.state_dir, app.id)
    assert url is not None
    answer = requests.post(url + "score", data={}, timeout=60)  # the form's defaults: the tutorial wine
    assert answer.status_code == 200, answer.text
    shown = re.search(r"Predicted quality: ([0-9.]+)", answer.text)
    assert shown is not None, answer.text
    served = float(boot.result.summary["smoke_prediction"][0])
    assert abs(float(shown.group(1)) - served) <= 0.005  # the page rounds to 2 decimals
