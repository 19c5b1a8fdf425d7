"""One real local workspace server for the whole session (see local_support.py for the helpers)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from local_support import LEAK_CANARY, Api, free_port

from automation.local import control


@dataclass
class Local:
    state_dir: Path
    port: int
    workspace: control.LocalWorkspace
    clock_file: Path  # the scheduler's clock (epoch seconds); empty means the wall clock


@pytest.fixture(scope="session")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    """A real server on a free port; secrets are in its environment while it starts, to prove jobs never see them."""
    state_dir = tmp_path_factory.mktemp("cmlops-local") / ".cmlops"
    clock_file = state_dir.parent / "scheduler-clock"
    clock_file.write_text("")
    port = free_port()
    secrets = {"CML_API_KEY": LEAK_CANARY, "AWS_SECRET_ACCESS_KEY": LEAK_CANARY, "GITHUB_TOKEN": LEAK_CANARY}
    # The scheduler's injected clock stays set for the whole session: a test that restarts this
    # server (server death, state folder) must not start one that ignores the clock file.
    settings = {"CMLOPS_LOCAL_CLOCK_FILE": str(clock_file), "CMLOPS_LOCAL_SCHEDULER_TICK": "0.2"}
    saved = {name: os.environ.get(name) for name in {**secrets, **settings}}
    os.environ.update({**secrets, **settings})
    try:
        workspace = control.start(state_dir, port=port, wait=60)
    finally:
        _restore(saved, secrets)
    yield Local(state_dir, port, workspace, clock_file)
    control.stop(state_dir)
    _restore(saved, settings)


def _restore(saved: dict[str, str | None], names: dict[str, str]) -> None:
    for name in names:
        if saved[name] is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved[name]  # type: ignore[assignment]


@pytest.fixture(scope="session")
def api(local: Local) -> Api:
    session = requests.Session()
    session.trust_env = False  # loopback only: never a proxy from the environment
    return Api(local.workspace.url, local.workspace.api_key, session)


@pytest.fixture(scope="session")
def runtime(api: Api) -> str:
    """The newest Workbench Python 3.11 runtime, picked the way a client would."""
    found = api.ok(
        "GET",
        "/api/v2/runtimes",
        params={"search_filter": '{"kernel": "Python 3.11", "editor": "Workbench"}'},
    )["runtimes"]
    return max(found, key=lambda r: r["full_version"])["image_identifier"]
