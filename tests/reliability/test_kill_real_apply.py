"""A real `cmlops apply` process, SIGKILLed at seeded points, is finished by the next apply.

Unlike test_kill_resume (the CML-shaped fake, every write call), this kills the actual CLI process
against a live local workspace while the workspace keeps working: the job run, the build and the
deployment it started go on without it. Each round kills the process shortly (a seeded delay)
after it announces a step; the last round runs to the end. Afterwards there is exactly one of every
resource and the endpoint answers.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fakes.specs import flagship

from automation.api import CMLClient
from automation.http import HttpClient
from automation.local import control
from automation.reconcile import make_plan
from automation.workflows.smoke import call_endpoint, predictions_of

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "specs" / "wine-quality.yaml"
# The step lines apply prints when it starts a step (cli/spec_cmds.py), in the order they come.
KILL_POINTS = ["run job_run", "register model_version", "build build", "deploy deployment"]
SEED = 11


def apply_until(state_dir: Path, marker: str | None, delay: float) -> tuple[int, str]:
    """Run `cmlops apply`; SIGKILL it ``delay`` seconds after ``marker`` appears (None: let it finish)."""
    cmd = [sys.executable, "-m", "automation", "--state-dir", str(state_dir), "apply", str(SPEC)]
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    seen: list[str] = []
    killed = threading.Event()

    def watch() -> None:
        for line in proc.stderr:
            seen.append(line)
            if marker and marker in line and not killed.is_set():
                killed.set()
                threading.Timer(
                    delay, lambda: proc.poll() is None and proc.send_signal(signal.SIGKILL)
                ).start()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=10)
    proc.stdout.close()
    return proc.returncode, "".join(seen)


def test_killed_apply_processes_are_finished_by_the_next_apply(tmp_path: Path, wine_data: str) -> None:
    assert Path(wine_data).is_absolute()
    state_dir = tmp_path / ".cmlops"
    ws = control.start(state_dir, wait=60)
    rng = random.Random(SEED)
    try:
        kills = 0
        for marker in KILL_POINTS:
            delay = rng.uniform(0.2, 2.5)
            code, err = apply_until(state_dir, marker, delay)
            if code == -signal.SIGKILL:
                kills += 1
            else:  # the step finished before the kill landed: the apply must still have succeeded
                assert code == 0, err[-2000:]
        code, err = apply_until(state_dir, None, 0)
        assert code == 0, err[-2000:]

        client = CMLClient(
            HttpClient(ws.url, ws.api_key), model_service_url=ws.model_service_url, poll=(0.25, 1)
        )
        spec = flagship()
        projects = [p.name for p in client.projects.list()]
        assert sorted(projects) == sorted([spec.projects.dev.name, spec.projects.prd.name])
        dev = client.projects.find(spec.projects.dev.name)
        prd = client.projects.find(spec.projects.prd.name)
        assert len([j for j in client.jobs.list(dev.id) if j.name == spec.model_named(None).job]) == 1
        models = list(client.models.list(prd.id))
        assert len(models) == 1
        builds = [b for b in client.models.list_builds(prd.id, models[0].id) if b.status != "build failed"]
        versions = [b.registered_model_version_id for b in builds]
        assert len(versions) == len(set(versions)), "two good builds of one version"
        active = [
            d
            for b in builds
            for d in client.models.list_deployments(prd.id, models[0].id, b.id)
            if d.status in ("deployed", "deploying", "pending")
        ]
        assert len(active) == 1
        assert not make_plan(client, spec)[0].has_changes
        prediction = predictions_of(
            call_endpoint(client, models[0], spec.model_named(None).endpoint.smoke.input)
        )
        assert 3 <= prediction[0] <= 9
        print(
            f"\nkill points: {len(KILL_POINTS)} tried, {kills} processes SIGKILLed mid-apply, "
            f"all finished by the next apply; builds {len(builds)}, active deployments {len(active)}"
        )
        assert kills >= 2, "the kill points should land while apply is still working"
    finally:
        control.stop(state_dir)


@pytest.fixture(autouse=True)
def _absolute_wine_data(wine_data: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINE_DATA", str(Path(wine_data).resolve()))
