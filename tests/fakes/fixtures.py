"""Pytest fixtures over FakeCML, imported by the conftest of each test folder that uses the fake."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import run_cli
from conformance.swagger import Swagger, find_swagger

from automation.api import CMLClient
from automation.spec import Spec
from automation.workflows.bootstrap import bootstrap
from fakes.fake_cml import FakeCML
from fakes.specs import make_spec


@pytest.fixture
def fake() -> Iterator[FakeCML]:
    """An empty CML workspace; afterwards, every request must have hit a known API v2 route, and
    every request it accepted must match the real swagger's paths, fields and value types."""
    with FakeCML.running(experiment_name="wine-test") as workspace:
        yield workspace
    assert workspace.unrouted == [], f"requests outside the API v2 subset: {workspace.unrouted}"
    problems = swagger_problems(workspace.calls)
    assert problems == [], "requests CML would not take as sent:\n" + "\n".join(problems)


def swagger_problems(calls: list) -> list[str]:
    """Swagger problems of the accepted API calls (none when the swagger file is absent)."""
    path = find_swagger()
    if path is None:
        return []
    spec = _swagger(str(path))
    problems: list[str] = []
    for call in calls:
        if call.host != "api" or call.status != 200:
            continue
        multipart = call.method == "POST" and call.path.endswith("/files")
        problems += spec.check_request(
            call.method,
            call.path,
            body=None if multipart else call.body,
            query=call.query,
            multipart=multipart,
        )
    return sorted(set(problems))


@functools.cache
def _swagger(path: str) -> Swagger:
    return Swagger.from_file(Path(path))


@pytest.fixture
def client(fake: FakeCML) -> CMLClient:
    return fake.client()


@pytest.fixture(scope="session")
def spec() -> Spec:
    """The test spec (tests/reconcile/spec-wine-test.yaml); frozen, so one instance is shared."""
    return make_spec()


@pytest.fixture
def converged(fake: FakeCML, client: CMLClient, spec: Spec) -> FakeCML:
    """A workspace bootstrapped from the test spec, with the call log cleared."""
    bootstrap(client, spec)
    fake.calls.clear()
    fake.predictions.clear()
    return fake


def cli_runner(client: CMLClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """A function that runs `cmlops ARGS` against ``client`` (a fake): (exit code, stdout, stderr)."""
    from automation.cli.context import CliContext

    monkeypatch.setattr(CliContext, "client", lambda self, spec=None: client)
    return functools.partial(run_cli, capsys)


def url_cli_runner(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], home: Path):
    """Like ``cli_runner``, but the CLI builds its own client from ``CML_URL`` (the fake's URL), so the
    settings, the HTTP layer and the ``-v`` trace are the real ones; only waits are instant."""
    from automation.clock import FakeClock
    from fakes.fake_cml import API_KEY, BASE_URL

    monkeypatch.setenv("CML_URL", BASE_URL)
    monkeypatch.setenv("CML_API_KEY", API_KEY)
    monkeypatch.setenv("HOME", str(home))  # no developer profile file
    original = CMLClient.from_settings.__func__

    def from_settings(cls, settings, **kwargs):
        kwargs["clock"] = FakeClock()
        return original(cls, settings, **kwargs)

    monkeypatch.setattr(CMLClient, "from_settings", classmethod(from_settings))
    return functools.partial(run_cli, capsys)
