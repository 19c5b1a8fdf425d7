"""Promotion under concurrency and interruption, with real `cmlops` processes on a live local workspace.

One workspace for the module: the flagship spec bootstrapped (version 1 serves), then a better run
trained (ALPHA 0.01). Then:

* two `cmlops promote --run-id RUN` processes started at once end with one version registered from
  the run, one deployment serving it, and a history that says so (one promoted; the other refused
  with exit 13, or, with `--wait`, finding nothing left to do);
* `cmlops rollback` SIGKILLed just after it announces each of its steps, then run again, leaves the
  version it rolled back to serving: checked by calling the model endpoint.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakes.prd import deployed_version_numbers
from fakes.specs import flagship
from reliability_support import free_port

from automation.api import CMLClient
from automation.http import HttpClient
from automation.local import control
from automation.spec import Spec
from automation.workflows.bootstrap import bootstrap
from automation.workflows.history import load_history
from automation.workflows.smoke import call_endpoint, predictions_of

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "specs" / "wine-quality.yaml"
# Where a rollback is killed: just before a step acts (``step:before``), just after it finished
# (``step:after``), or while it waits (``wait:TEXT``, on the first progress line holding TEXT).
KILL_POINTS = [
    "build:before",
    "deploy:before",
    "wait:deploying",
    "smoke:before",
    "stop_previous:before",
    "record:before",
    "record:after",
]
# Loaded by the `cmlops` child (sitecustomize) when CMLOPS_TEST_KILL_POINT names a step: the child
# SIGKILLs itself there, so each kill point is hit exactly, not after a racing delay.
KILL_HOOK = """\
import os
import signal

_point = os.environ.get("CMLOPS_TEST_KILL_POINT", "")
if _point and not _point.startswith("wait:"):
    from automation.workflows.promotion import steps

    _step, _, _when = _point.partition(":")
    _run = steps.StepRunner.run

    def run(self, name, fn):
        if name == _step and _when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        _run(self, name, fn)
        if name == _step and _when == "after":
            os.kill(os.getpid(), signal.SIGKILL)

    steps.StepRunner.run = run
"""


@dataclass
class Live:
    state_dir: Path
    hook_dir: Path
    client: CMLClient
    spec: Spec
    better_run: str
    answers: dict[int, list[float]]  # version -> what the endpoint answers when it serves

    def cmlops(self, *args: str, kill_point: str | None = None) -> tuple[int, str, str]:
        """Run `cmlops --state-dir S ARGS` -> (exit code, stdout, stderr), killed at ``kill_point``."""
        cmd = [sys.executable, "-m", "automation", "--state-dir", str(self.state_dir), *args]
        env = dict(os.environ)
        if kill_point:
            env["CMLOPS_TEST_KILL_POINT"] = kill_point
            env["PYTHONPATH"] = os.pathsep.join([str(self.hook_dir), str(REPO), env.get("PYTHONPATH", "")])
        kill_after = (
            kill_point.removeprefix("wait:") if kill_point and kill_point.startswith("wait:") else None
        )
        proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        seen: list[str] = []
        fired = threading.Event()

        def watch() -> None:
            for line in proc.stderr:
                seen.append(line)
                if kill_after and kill_after in line and not fired.is_set():
                    fired.set()
                    proc.send_signal(signal.SIGKILL)  # mid-wait: the workspace goes on without it

        reader = threading.Thread(target=watch, daemon=True)
        reader.start()
        try:
            out = proc.stdout.read()
            proc.wait(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
        reader.join(timeout=10)
        return proc.returncode, out, "".join(seen)

    def answer(self) -> list[float]:
        prd = self.client.projects.find(self.spec.projects.prd.name)
        model = self.client.models.find(prd.id, self.spec.model_named(None).endpoint.model_name)
        return predictions_of(
            call_endpoint(self.client, model, self.spec.model_named(None).endpoint.smoke.input)
        )

    def serving_version(self) -> int:
        """The version whose answer the endpoint gives (the versions' answers differ)."""
        got = self.answer()
        matching = [v for v, a in self.answers.items() if a == got]
        assert len(matching) == 1, f"the endpoint answers {got}, known answers {self.answers}"
        return matching[0]

    def deployed(self) -> list[int]:
        """Version numbers of the PRD model's deployed deployments."""
        return deployed_version_numbers(self.client, self.spec)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, wine_data: str) -> Iterator[Live]:
    os.environ["WINE_DATA"] = str(Path(wine_data).resolve())  # the CLI processes load the spec too
    state_dir = tmp_path_factory.mktemp("promote-live") / ".cmlops"
    hook_dir = tmp_path_factory.mktemp("kill-hook")
    (hook_dir / "sitecustomize.py").write_text(KILL_HOOK)
    ws = control.start(state_dir, port=free_port(), wait=60)
    try:
        client = CMLClient(
            HttpClient(ws.url, ws.api_key), model_service_url=ws.model_service_url, poll=(0.25, 1)
        )
        spec = flagship()
        bootstrap(client, spec)
        first = predictions_of(
            call_endpoint(client, _model(client, spec), spec.model_named(None).endpoint.smoke.input)
        )
        dev = client.projects.find(spec.projects.dev.name)
        job = client.jobs.find(dev.id, spec.model_named(None).job)
        run = client.jobs.start_run(dev.id, job.id, environment={"ALPHA": "0.01"})
        client.jobs.wait_run(dev.id, job.id, run.id, timeout=600)
        experiment = client.experiments.find(dev.id, spec.model_named(None).experiment)
        better = next(
            r.id
            for r in client.experiments.list_runs(dev.id, experiment.id)
            if r.params.get("alpha") == "0.01"
        )
        yield Live(state_dir, hook_dir, client, spec, better, {1: first})
    finally:
        control.stop(state_dir)


def _model(client: CMLClient, spec: Spec):
    prd = client.projects.find(spec.projects.prd.name)
    return client.models.find(prd.id, spec.model_named(None).endpoint.model_name)


def _at_once(live: Live, *args: str) -> list[tuple[str, int]]:
    """Two `cmlops -o json ARGS` processes started together -> their sorted (outcome, exit code)."""
    results: list[tuple[int, str, str]] = [(0, "", "")] * 2

    def run(i: int) -> None:
        results[i] = live.cmlops("-o", "json", *args)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for code, out, err in results:
        assert out.strip(), f"exit {code}, no report: {err[-3000:]}"
    return sorted((json.loads(out)["outcome"], code) for code, out, _ in results)


def test_two_concurrent_promotes_register_once_and_serve_one_version(live: Live) -> None:
    outcomes = _at_once(live, "promote", str(SPEC), "--run-id", live.better_run)
    assert outcomes in ([("busy", 13), ("promoted", 0)], [("noop", 0), ("promoted", 0)])

    c = live.client
    registered = c.registry.find(live.spec.model_named(None).registered_name)
    of_run = [v for v in c.registry.versions(registered.model_id) if v.run_id == live.better_run]
    assert len(of_run) == 1, "the MLflow run was registered twice"
    assert live.deployed() == [2]
    live.answers[2] = live.answer()
    assert live.answers[2] != live.answers[1]
    stages = {e.version: e.stage for e in load_history(c, live.spec)}
    assert stages == {2: "production", 1: "archived"}
    prd = c.projects.find(live.spec.projects.prd.name)
    builds = [b for b in c.models.list_builds(prd.id, _model(c, live.spec).id) if b.status == "built"]
    assert len({b.registered_model_version_id for b in builds}) == len(builds) == 2, "a version built twice"
    print(f"\nconcurrent promotes: outcomes {outcomes}; one version of the run, one deployment serving")


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_rollback_killed_at_each_step_is_finished_by_the_next(live: Live, point: str) -> None:
    if 2 not in live.answers:  # run alone: promote the better run first
        code, _, err = live.cmlops("promote", str(SPEC), "--run-id", live.better_run)
        assert code == 0, err[-3000:]
        live.answers[2] = live.answer()
    if live.serving_version() != 2:  # put version 2 back for this round
        code, _, err = live.cmlops("promote", str(SPEC), "--version", "2")
        assert code == 0, err[-3000:]
    assert live.serving_version() == 2

    code, _, killed_err = live.cmlops("rollback", str(SPEC), kill_point=point)
    assert code == -signal.SIGKILL, killed_err[-3000:]
    left = live.client.registry.find(live.spec.model_named(None).registered_name).description
    started = time.monotonic()
    answered = live.answer()  # PRD answers at once after the kill, whichever version it is
    assert answered in (live.answers[1], live.answers[2])

    code, out, err = live.cmlops("-o", "json", "rollback", str(SPEC))
    assert code == 0, err[-3000:] + out[-3000:]
    report = json.loads(out)
    assert report["candidate"]["number"] == 1, (killed_err[-1500:], left)  # it finished the rollback
    assert live.serving_version() == 1
    assert live.deployed() == [1]
    stages = {e.version: e.stage for e in load_history(live.client, live.spec)}
    assert stages[1] == "production" and stages[2] == "rolled_back"
    print(
        f"\nrollback killed at {point}; the re-run "
        f"({report['outcome']}, {time.monotonic() - started:.1f} s) left version 1 serving"
    )


def test_a_second_promote_with_wait_waits_for_the_first_then_finds_nothing_to_do(live: Live) -> None:
    if 2 not in live.answers:  # run alone: promote the better run first, then go back to version 1
        code, _, err = live.cmlops("promote", str(SPEC), "--run-id", live.better_run)
        assert code == 0, err[-3000:]
        live.answers[2] = live.answer()
    if live.serving_version() != 1:
        code, _, err = live.cmlops("rollback", str(SPEC), "--to", "1")
        assert code == 0, err[-3000:]

    outcomes = _at_once(live, "promote", str(SPEC), "--version", "2", "--wait", "300")

    assert outcomes == [("noop", 0), ("promoted", 0)]
    assert live.serving_version() == 2 and live.deployed() == [2]
    stages = {e.version: e.stage for e in load_history(live.client, live.spec)}
    assert stages[2] == "production" and stages[1] == "archived"
    print(f"\nconcurrent promotes with --wait: {outcomes}")
