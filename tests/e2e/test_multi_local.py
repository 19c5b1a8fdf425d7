"""A whole CML project as code on the live local workspace (spec v2, tests/e2e/multi/spec-multi.yaml):
an install job both training jobs follow (CML parent_id), a scheduled job, two models, an application.

One workspace and one apply for the module. The install run comes before both trainings (which the
workspace started, not apply); the schedule fires when the injected scheduler clock reaches its time
(no sleeping until a minute boundary); the application answers over HTTP; both endpoints serve; a
re-apply makes no write.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import requests

from automation.api import CMLClient
from automation.local import control
from automation.local.workloads.schedules import next_fire
from automation.spec import Spec, load_spec
from automation.workflows.bootstrap import BootstrapResult, apply_spec, bootstrap
from automation.workflows.smoke import call_endpoint, predictions_of
from e2e.local_bootstrap import REPO, client_for, free_port

pytestmark = pytest.mark.e2e
SPEC = REPO / "tests" / "e2e" / "multi" / "spec-multi.yaml"


@dataclass
class Live:
    state_dir: Path
    clock_file: Path
    workspace: control.LocalWorkspace
    client: CMLClient
    spec: Spec
    result: BootstrapResult


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    wine = os.environ.get("WINE_DATA")
    if not wine or not Path(wine).is_file():
        pytest.fail("the wine data set is needed: set WINE_DATA to wine-quality.csv (see README)")
    state_dir = tmp_path_factory.mktemp("multi-local") / ".cmlops"
    clock_file = state_dir.parent / "scheduler-clock"
    clock_file.write_text("")  # the wall clock until the schedule test moves it
    settings = {"CMLOPS_LOCAL_CLOCK_FILE": str(clock_file), "CMLOPS_LOCAL_SCHEDULER_TICK": "0.2"}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        ws = control.start(state_dir, port=free_port(), wait=60)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        client = client_for(ws)
        spec = load_spec(SPEC)
        result = bootstrap(client, spec)
        yield Live(state_dir, clock_file, ws, client, spec, result)
    finally:
        control.stop(state_dir)


def _when(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _job(live: Live, name: str):
    dev = live.client.projects.find(live.spec.projects.dev.name)
    return dev.id, live.client.jobs.find(dev.id, name)


def test_the_install_job_runs_before_both_trainings_which_the_workspace_started(live: Live) -> None:
    dev_id, install = _job(live, "install-dependencies")
    (install_run,) = list(live.client.jobs.list_runs(dev_id, install.id))
    assert install_run.status == "ENGINE_SUCCEEDED"
    for name in ("train-red", "train-white"):
        _, job = _job(live, name)
        assert job.parent_id == install.id and job.type == "dependent"
        (run,) = list(live.client.jobs.list_runs(dev_id, job.id))
        assert run.status == "ENGINE_SUCCEEDED"
        assert _when(run.created_at) >= _when(install_run.finished_at)  # started by the parent's success
    run_steps = [s for s in live.result.apply["steps"] if s["resource"].startswith("job_run.")]
    assert [s["resource"] for s in run_steps] == ["job_run.wine-red", "job_run.wine-white"]
    assert "started 'install-dependencies' run" in run_steps[0]["detail"]
    assert "started" not in run_steps[1]["detail"]  # followed on from the same install run


def test_both_models_serve(live: Live) -> None:
    prd = live.client.projects.find(live.spec.projects.prd.name)
    answers = {}
    for name, model in live.spec.models.items():
        served = live.client.models.find(prd.id, model.endpoint.model_name)
        answers[name] = predictions_of(call_endpoint(live.client, served, model.endpoint.smoke.input))
        assert live.result.summary["models"][name]["deployment_status"] == "deployed"
    assert all(len(p) == 1 and 2 < float(p[0]) < 9 for p in answers.values()), answers
    assert answers["wine-red"] != answers["wine-white"]  # two models (alpha 0.5 and 0.1), not one twice


def test_the_application_answers_over_http(live: Live) -> None:
    dev_id = live.client.projects.find(live.spec.projects.dev.name).id
    app = live.client.applications.find(dev_id, "wine-scorer")
    assert app is not None and app.status == "APPLICATION_RUNNING" and app.subdomain == "wine-scorer-live"
    ports = re.findall(r"on 127\.0\.0\.1:(\d+)", control.read_log(live.state_dir, app.id))
    assert ports, control.read_log(live.state_dir, app.id)
    session = requests.Session()
    session.trust_env = False
    answer = session.get(f"http://127.0.0.1:{ports[-1]}/", timeout=10)
    assert answer.status_code == 200 and answer.text == "wine scorer (live)"


def test_cmlops_status_lists_every_resource_and_the_applications_url(live: Live) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "automation",
            "--state-dir",
            str(live.state_dir),
            "-o",
            "json",
            "status",
            str(SPEC),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["in_sync"] is True
    assert {m["endpoint"] for m in data["summary"]["models"].values()} == {"answers"}
    assert sorted(data["summary"]["jobs"]) == [
        "install-dependencies",
        "train-red",
        "train-white",
        "weekly-tick",
    ]
    url = data["summary"]["applications"]["wine-scorer"]["url"]
    assert url.startswith("http://127.0.0.1:")
    session = requests.Session()
    session.trust_env = False
    assert session.get(url, timeout=10).text == "wine scorer (live)"


def test_the_scheduled_job_was_created_not_run_and_fires_when_its_time_comes(live: Live) -> None:
    dev_id, job = _job(live, "weekly-tick")
    assert (job.type, job.schedule, job.timezone, job.parent_id) == ("cron", "0 6 * * 1", "UTC", "")
    assert list(live.client.jobs.list_runs(dev_id, job.id)) == []  # apply never runs a scheduled job
    due = next_fire("0 6 * * 1", "UTC", _when(job.created_at))
    live.clock_file.write_text(str(due + 1))  # the scheduler's "now": just past the next Monday 06:00
    try:
        deadline = time.monotonic() + 120
        runs = []
        while time.monotonic() < deadline:
            runs = list(live.client.jobs.list_runs(dev_id, job.id))
            if runs and runs[0].status == "ENGINE_SUCCEEDED":
                break
            time.sleep(0.5)  # polling the workspace for the run, not waiting on the clock
        assert len(runs) == 1 and runs[0].status == "ENGINE_SUCCEEDED", runs
    finally:
        live.clock_file.write_text("")


def test_a_reapply_makes_no_writes(live: Live) -> None:
    before = live.client.http.stats.writes()
    the_plan, _, result = apply_spec(live.client, live.spec)
    assert result is None and not the_plan.has_changes, [a.to_dict() for a in the_plan.changes]
    assert live.client.http.stats.writes() == before
    kinds = {a.resource: a.kind for a in the_plan.actions}
    assert kinds["application.wine-scorer"] == kinds["job.weekly-tick"] == "noop"
