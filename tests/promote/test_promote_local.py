"""promote, end to end on the live local workspace (real jobs, MLflow registry, builds and endpoints).

One scenario, run once for the module (it takes a few minutes of real work), whose stages the
tests below check one by one:

1. bootstrap: the training job (ALPHA 0.5) becomes version 1, serving in PRD;
2. two more MLflow runs, trained as jobs in parallel: code/02_Experiment_log_model.py with
   ALPHA 0.01 (a better model) and a tiny script that logs a pyfunc model whose predict raises;
3. promote --dry-run, then promote the better run (version 2), then promote version 1 again
   (worse than what serves now: refused), then promote the broken model (version 3: its smoke test
   fails and PRD is put back), then the broken model again with a staging model (it fails there,
   while PRD is called all along and answers with version 2), then rollback --to 1.

After each stage the endpoint is called with the spec's example input, so every assertion about
"what serves" is about what really answers.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fakes.prd import deployed_version_numbers
from fakes.specs import make_spec, with_staging

from automation.api import CMLClient
from automation.errors import EXIT_GATE, EXIT_SMOKE
from automation.local import control
from automation.settings import Settings
from automation.spec import Spec
from automation.workflows.bootstrap import bootstrap
from automation.workflows.history import load_history
from automation.workflows.promotion import PromotionReport, promote, rollback
from automation.workflows.smoke import call_endpoint, predictions_of

pytestmark = pytest.mark.e2e

BROKEN_SCRIPT = '''\
"""A model logged with a broken predict: it raises on any row whose citric acid is 0.

The local build predicts on the input example (no such row) and passes; the spec's smoke input
(7.4, 0.7, 0, ...) has one, so the deployed model fails its smoke test.
"""

import os

import mlflow
import pandas as pd

FEATURES = ["fixed acidity", "volatile acidity", "citric acid", "residual sugar", "chlorides",
            "free sulfur dioxide", "total sulfur dioxide", "density", "pH", "sulphates", "alcohol"]


class BrokenModel(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        if (model_input["citric acid"] == 0).any():
            raise ValueError("broken predict: cannot score citric acid 0")
        return [5.0] * len(model_input)


example = pd.DataFrame([[7.0, 0.27, 0.36, 20.7, 0.045, 45.0, 170.0, 1.001, 3.0, 0.45, 8.8]], columns=FEATURES)
mlflow.set_experiment(os.environ["EXPERIMENT_NAME"])
with mlflow.start_run():
    mlflow.log_metrics({"rmse": 0.70, "mae": 0.52, "r2": 0.35})  # better than anything: gates pass
    mlflow.set_tag("model_artifact_path", "model")
    mlflow.pyfunc.log_model("model", python_model=BrokenModel(), input_example=example)  # 2.19 and 3.x
'''


# The Standard runtime has no scikit-learn: the DEV project installs it first, as the flagship does.
WITH_INSTALL_STEP = {
    "projects": {
        "dev": {
            "source": {
                "files": [
                    "code/wine.py",
                    "code/02_Experiment_log_model.py",
                    "code/install_dependencies.py",
                    "requirements.txt",
                ]
            }
        }
    },
    "training": {"install": {"name": "install-dependencies", "script": "code/install_dependencies.py"}},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Scenario:
    spec: Spec
    client: CMLClient
    answers: dict[str, list[Any]] = field(default_factory=dict)  # stage -> the endpoint's predictions
    reports: dict[str, PromotionReport] = field(default_factory=dict)
    writes: dict[str, int] = field(default_factory=dict)
    calls: dict[str, list[Any]] = field(default_factory=dict)  # stage -> answers of calls made meanwhile

    def answer(self, client: CMLClient | None = None) -> list[Any]:
        client = client or self.client
        prd = client.projects.find(self.spec.projects.prd.name)
        model = client.models.find(prd.id, self.spec.model_named(None).endpoint.model_name)
        return predictions_of(call_endpoint(client, model, self.spec.model_named(None).endpoint.smoke.input))

    def serving_versions(self) -> list[int]:
        """Registered version numbers behind the PRD model's deployed deployments."""
        return deployed_version_numbers(self.client, self.spec)


class Caller:
    """Calls the PRD endpoint in a loop while a promotion runs (what live traffic sees)."""

    def __init__(self, scenario: Scenario, client: CMLClient) -> None:
        self.scenario, self.client, self.results, self._stop = scenario, client, [], threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.results.append(self.scenario.answer(self.client))
            except Exception as exc:  # an error is what the test looks for
                self.results.append(f"error: {exc}")
            time.sleep(0.1)

    def __enter__(self) -> Caller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _train_runs(client: CMLClient, spec: Spec) -> tuple[str, str]:
    """The better run (job with ALPHA 0.01) and the broken one (its own job), trained in parallel."""
    dev = client.projects.find(spec.projects.dev.name)
    job = client.jobs.find(dev.id, spec.model_named(None).job)
    client.projects.upload_file(dev.id, "broken_model.py", BROKEN_SCRIPT.encode())
    broken_job = client.jobs.create(
        dev.id,
        name="train broken model",
        script="broken_model.py",
        runtime_identifier=job.runtime_identifier,
        environment={"EXPERIMENT_NAME": spec.model_named(None).experiment},
    )
    better = client.jobs.start_run(dev.id, job.id, environment={"ALPHA": "0.01"})
    broken = client.jobs.start_run(dev.id, broken_job.id)
    client.jobs.wait_run(dev.id, job.id, better.id, timeout=600)
    client.jobs.wait_run(dev.id, broken_job.id, broken.id, timeout=600)
    experiment = client.experiments.find(dev.id, spec.model_named(None).experiment)
    runs = list(client.experiments.list_runs(dev.id, experiment.id))
    better_run = next(r.id for r in runs if r.params.get("alpha") == "0.01")
    broken_run = next(r.id for r in runs if "alpha" not in r.params)
    return better_run, broken_run


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, wine_data: str) -> Iterator[Scenario]:
    state_dir: Path = tmp_path_factory.mktemp("promote-local") / ".cmlops"
    workspace = control.start(state_dir, port=_free_port(), wait=60)
    try:
        settings = Settings(
            url=workspace.url, api_key=workspace.api_key, model_service_url=workspace.model_service_url
        )
        client = CMLClient.from_settings(settings)
        spec = make_spec(
            {
                **WITH_INSTALL_STEP,
                "training": {
                    **WITH_INSTALL_STEP["training"],
                    "job": {"environment": {"EXPERIMENT_NAME": "wine-test", "WINE_DATA": wine_data}},
                },
                "model": {
                    "gates": {
                        "thresholds": [{"metric": "r2", "min": 0.1}, {"metric": "rmse", "max": 0.9}],
                        "no_worse_than_prd": {"metric": "rmse", "higher_is_better": False, "tolerance": 0.02},
                    }
                },
            }
        )
        s = Scenario(spec, client)
        bootstrap(client, spec)
        s.answers["bootstrap"] = s.answer()
        better_run, broken_run = _train_runs(client, spec)

        before = client.http.stats.writes()
        s.reports["dry_run"] = promote(client, spec, run_id=better_run, dry_run=True)
        s.writes["dry_run"] = client.http.stats.writes() - before
        s.answers["dry_run"] = s.answer()

        s.reports["better"] = promote(client, spec, run_id=better_run)
        s.answers["better"] = s.answer()

        before = client.http.stats.writes()
        s.reports["worse"] = promote(client, spec, version=1)
        s.writes["worse"] = client.http.stats.writes() - before
        s.answers["worse"] = s.answer()

        s.reports["broken"] = promote(client, spec, run_id=broken_run)
        s.answers["broken"] = s.answer()

        # The same broken model with a staging model: PRD is called all along and never errs.
        staged = with_staging(spec, "wine-staging")
        with Caller(s, CMLClient.from_settings(settings)) as caller:  # its own connection
            s.reports["staged"] = promote(client, staged, run_id=broken_run)
        s.calls["staged"] = caller.results
        s.answers["staged"] = s.answer()

        s.reports["rollback"] = rollback(client, spec, to_version=1)
        s.answers["rollback"] = s.answer()
        yield s
    finally:
        control.stop(state_dir)


def test_dry_run_changes_nothing(scenario):
    report = scenario.reports["dry_run"]
    assert (report.outcome, report.exit_code) == ("planned", 0)
    assert scenario.writes["dry_run"] == 0
    assert scenario.answers["dry_run"] == scenario.answers["bootstrap"]


def test_a_better_candidate_is_promoted_and_serves(scenario):
    report = scenario.reports["better"]
    assert (report.outcome, report.exit_code) == ("promoted", 0), report.error
    assert report.candidate["number"] == 2 and report.previous["number"] == 1
    assert report.candidate["metrics"]["rmse"] < report.previous["metrics"]["rmse"]
    assert scenario.answers["better"] != scenario.answers["bootstrap"]  # another model answers
    assert 3 <= scenario.answers["better"][0] <= 9


def test_a_worse_candidate_is_refused_and_prd_still_serves_the_old_version(scenario):
    report = scenario.reports["worse"]
    assert (report.outcome, report.exit_code) == ("refused", EXIT_GATE)
    failed = [g for g in report.gates if not g["passed"]]
    assert [g["gate"] for g in failed] == ["no_worse_than_prd"]
    assert scenario.writes["worse"] == 0
    assert scenario.answers["worse"] == scenario.answers["better"]


def test_a_broken_model_is_rolled_back_and_the_old_version_still_answers(scenario):
    report = scenario.reports["broken"]
    assert (report.outcome, report.failed_step, report.exit_code) == ("failed", "smoke", EXIT_SMOKE)
    assert report.rolled_back is True
    assert "broken predict" in report.error["message"]
    assert {s.step: s.status for s in report.steps}["verify_previous"] == "ok"
    assert scenario.answers["broken"] == scenario.answers["better"]  # version 2 answers again


def test_a_candidate_failing_in_the_staging_model_never_answered_a_live_request(scenario):
    report = scenario.reports["staged"]
    assert (report.outcome, report.failed_step, report.exit_code) == ("failed", "stage", EXIT_SMOKE)
    assert "broken predict" in report.error["message"] and report.rolled_back is False
    calls = scenario.calls["staged"]
    assert len(calls) >= 10  # PRD was called all through the staging build, deployment and smoke test
    assert all(answer == scenario.answers["better"] for answer in calls), calls  # version 2, never an error
    assert scenario.answers["staged"] == scenario.answers["better"]


def test_rollback_to_a_previous_version_serves_it_again(scenario):
    report = scenario.reports["rollback"]
    assert (report.outcome, report.exit_code) == ("promoted", 0), report.error
    assert scenario.answers["rollback"] == scenario.answers["bootstrap"]  # version 1 answers
    assert scenario.serving_versions() == [1]


def test_history_records_every_promotion(scenario):
    entries = {e.version: e for e in load_history(scenario.client, scenario.spec)}
    assert entries[1].stage == "production" and entries[1].promoted_by == "rollback"
    assert entries[2].stage == "rolled_back" and json.loads(json.dumps(entries[2].gates))
    assert entries[3].stage == "rejected" and entries[3].rejected_step == "stage"  # its latest: staged
