"""One live local workspace with 20% injected API faults, bootstrapped once from the flagship spec.

The apply is repeated (a bounded number of rounds) whenever a create's answer was lost
(``maybe_applied``): the next apply must find what the server stored and finish the work.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fakes.fixtures import client, fake, spec  # noqa: F401  (the FakeCML fixtures, for test_kill_resume)
from fakes.specs import flagship
from reliability_support import free_port

from automation.api import CMLClient
from automation.errors import ApiError, TransportError
from automation.http import HttpClient, RetryPolicy
from automation.local import control
from automation.local.control import LocalWorkspace
from automation.spec import Spec
from automation.workflows.bootstrap import apply_spec

FAULTS = "rate=0.2,kinds=500|502|503|429|drop_before|drop_after|slow,seed=7,slow_ms=100"
MAX_ROUNDS = 8


@dataclass
class FaultyRun:
    workspace: LocalWorkspace
    spec: Spec
    client: CMLClient
    rounds: int = 0
    lost_answers: list[str] = field(default_factory=list)  # the errors that ended a round
    writes: int = 0


def generous_client(workspace: LocalWorkspace) -> CMLClient:
    retry = RetryPolicy(max_attempts=10, base_delay=0.05, max_delay=0.5, deadline=60)
    http = HttpClient(workspace.url, workspace.api_key, retry=retry)
    return CMLClient(http, model_service_url=workspace.model_service_url, poll=(0.25, 1.0))


@pytest.fixture(scope="session")
def faulty(tmp_path_factory: pytest.TempPathFactory, wine_data: str) -> Iterator[FaultyRun]:
    """The flagship spec applied until it converges against a workspace that fails 20% of API calls."""
    assert Path(wine_data).is_absolute()
    state_dir = tmp_path_factory.mktemp("reliability") / ".cmlops"
    os.environ["CMLOPS_FAULTS"] = FAULTS  # control.start hands its environment to the server
    try:
        workspace = control.start(state_dir, port=free_port(), wait=60)
    finally:
        del os.environ["CMLOPS_FAULTS"]
    try:
        run = FaultyRun(workspace, flagship(), generous_client(workspace))
        while run.rounds < MAX_ROUNDS:
            run.rounds += 1
            try:
                apply_spec(run.client, run.spec)
                break
            except (TransportError, ApiError) as exc:
                if not getattr(exc, "maybe_applied", False):
                    raise
                run.lost_answers.append(f"round {run.rounds}: {exc.message}")
        else:
            pytest.fail(f"apply did not converge in {MAX_ROUNDS} rounds: {run.lost_answers}")
        run.writes = run.client.http.stats.writes()
        yield run
    finally:
        control.stop(state_dir)
