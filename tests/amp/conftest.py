"""Fixtures of the AMP tests: the CML fake, a fixture AMP, one live local workspace."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from amp_support import AmpFakeCML, materialise
from fakes.fixtures import swagger_problems

from automation.amp.loader import LoadedAmp, load_amp
from automation.api import CMLClient
from automation.settings import Settings


@pytest.fixture
def fake() -> Iterator[AmpFakeCML]:
    """An empty CML workspace; afterwards, every request must have hit a known API v2 route."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        workspace = AmpFakeCML(mock)
        yield workspace
    assert workspace.unrouted == [], f"requests outside the API v2 subset: {workspace.unrouted}"
    problems = swagger_problems(workspace.calls)
    assert problems == [], "requests CML would not take as sent:\n" + "\n".join(problems)


@pytest.fixture
def fake_client(fake: AmpFakeCML) -> CMLClient:
    return fake.client()


@pytest.fixture
def churn(tmp_path: Path) -> LoadedAmp:
    """The churn-shaped AMP (sessions, model trio, application) with its scripts, ready to launch."""
    return load_amp(materialise(tmp_path, "churn_sessions.yaml"))


# --- a live local workspace -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def local_ws(tmp_path_factory: pytest.TempPathFactory):
    """One local workspace for the AMP launch tests (started here, stopped at the end)."""
    from automation.local import control

    state_dir = tmp_path_factory.mktemp("amp-local") / ".cmlops"
    workspace = control.start(state_dir, port=_free_port(), wait=60)
    yield workspace
    control.stop(state_dir)


@pytest.fixture(scope="session")
def local_client(local_ws) -> CMLClient:
    return CMLClient.from_settings(
        Settings(url=local_ws.url, api_key=local_ws.api_key, model_service_url=local_ws.model_service_url),
        poll=(0.25, 1.0),  # the local workspace answers in seconds (as the CLI polls it)
    )
