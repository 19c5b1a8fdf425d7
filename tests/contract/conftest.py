"""The two backends of the contract suite: the CML-shaped fake and a live local workspace.

Each test gets a ``Backend`` (a client plus a way to build one with another key). The fake is
fresh per test (its ``responses`` mock intercepts every ``requests`` call while active, so it must
not outlive the test); the local workspace is started once per session in a tmp state folder.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fakes.fake_cml import BASE_URL, FakeCML

from automation.api import CMLClient
from automation.clock import FakeClock
from automation.http import HttpClient
from automation.local import control
from automation.settings import Settings

BACKENDS = ("cml-fake", "local")


@dataclass
class Backend:
    name: str
    client: CMLClient
    with_key: Callable[[str], CMLClient]  # a client on the same workspace with another API key
    prefix: str  # unique per test: names never collide in the shared local workspace

    def name_for(self, what: str) -> str:
        return f"{self.prefix}-{what}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def local_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[control.LocalWorkspace]:
    state_dir = tmp_path_factory.mktemp("contract-local") / ".cmlops"
    workspace = control.start(state_dir, port=_free_port(), wait=60)
    try:
        yield workspace
    finally:
        control.stop(state_dir)


def _local_client(ws: control.LocalWorkspace, key: str) -> CMLClient:
    settings = Settings(url=ws.url, api_key=key, model_service_url=ws.model_service_url)
    return CMLClient.from_settings(settings, poll=(0.1, 0.5))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    prefix = f"ctr-{uuid.uuid4().hex[:8]}"
    if request.param == "cml-fake":
        with FakeCML.running() as fake:

            def with_key(key: str) -> CMLClient:
                clock = FakeClock()
                return CMLClient(HttpClient(BASE_URL, key, clock=clock), clock=clock)

            yield Backend("cml-fake", fake.client(), with_key, prefix)
        assert fake.unrouted == [], f"requests outside the API v2 subset: {fake.unrouted}"
    else:
        ws: control.LocalWorkspace = request.getfixturevalue("local_workspace")
        yield Backend("local", _local_client(ws, ws.api_key), lambda key: _local_client(ws, key), prefix)
