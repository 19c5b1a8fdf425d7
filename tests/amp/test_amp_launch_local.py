"""`amp launch` on a live local workspace: a tiny AMP, its re-launch, and this repo's own AMP end to end
(the endpoint it deploys answers the tutorial's input)."""

from __future__ import annotations

from pathlib import Path

import pytest
from amp_support import REPO

from automation.amp.inputs import resolve_environment
from automation.amp.launch import LaunchOptions, launch
from automation.amp.loader import load_amp
from automation.api import CMLClient
from automation.local import control
from automation.workflows.smoke import call_endpoint, predictions_of

pytestmark = pytest.mark.e2e

TINY = """\
name: Tiny AMP
description: Prints ok.
author: tests
specification_version: 1.0
prototype_version: 1.0
environment_variables:
  GREETING:
    default: "hello"
    description: "What the script prints after ok."
runtimes:
  - editor: Workbench
    kernel: Python 3.11
    edition: Standard
tasks:
  - type: create_job
    name: Say ok
    entity_label: say_ok
    script: scripts/ok.py
    arguments: None
    cpu: 1
    memory: 1
  - type: run_job
    entity_label: say_ok
    short_summary: Print ok
  - type: run_session
    name: Say ok again
    script: scripts/ok.py
    cpu: 1
    memory: 1
"""
WINE_ROW = [7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51, 0.56, 9.4]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-amp")
    (folder / ".project-metadata.yaml").write_text(TINY)
    (folder / "scripts").mkdir()
    (folder / "scripts" / "ok.py").write_text('import os\nprint("ok", os.environ["GREETING"])\n')
    return folder


def _log(local_ws, run_id: str) -> str:
    return control.job_run_log_path(local_ws.state_dir, run_id).read_text()


def test_tiny_amp_launches_and_relaunches_without_twins(tiny: Path, local_ws, local_client: CMLClient):
    loaded = load_amp(tiny)
    options = LaunchOptions(project_name="tiny-amp", environment=resolve_environment(loaded.amp))
    first = launch(local_client, loaded, options)
    assert [s.status for s in first.steps] == ["done"] * 5
    run_ids = [s.ids["run"] for s in first.steps if "run" in s.ids]
    assert len(run_ids) == 2
    for run_id in run_ids:
        assert "ok hello" in _log(local_ws, run_id)  # the AMP variable reached the job as a project variable
    project = local_client.projects.find("tiny-amp")
    jobs_before = sorted(j.name for j in local_client.jobs.list(project.id))
    assert jobs_before == ["AMP session: Say ok again", "Say ok"]

    again = launch(local_client, loaded, options)
    assert {s.status for s in again.steps} == {"skipped"}
    assert sorted(j.name for j in local_client.jobs.list(project.id)) == jobs_before
    say_ok = local_client.jobs.find(project.id, "Say ok")
    assert len(list(local_client.jobs.list_runs(project.id, say_ok.id))) == 1


def test_our_own_amp_launches_end_to_end_and_the_endpoint_answers(local_client: CMLClient, wine_data: str):
    loaded = load_amp(REPO)
    env = resolve_environment(
        loaded.amp,
        {
            "WINE_DATA": wine_data,
            "DEV_PROJECT": "amp-e2e-dev",
            "PRD_PROJECT": "amp-e2e-prd",
            "ENDPOINT_NAME": "amp-e2e-endpoint",
            "MODEL_NAME": "amp-e2e-model",
        },
    )
    result = launch(local_client, loaded, LaunchOptions(project_name="wine-amp", environment=env))
    assert result.ok and [s.status for s in result.steps] == ["done"] * 8

    prd = local_client.projects.find("amp-e2e-prd")
    assert prd is not None, "the deploy job did not create the PRD project named by PRD_PROJECT"
    model = local_client.models.find(prd.id, "amp-e2e-endpoint")
    assert model is not None
    predictions = predictions_of(call_endpoint(local_client, model, {"input": [WINE_ROW]}))
    assert len(predictions) == 1 and 3 <= float(predictions[0]) <= 9
