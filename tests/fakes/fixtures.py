"""Pytest fixtures over FakeCML, imported by the conftest of each test folder that uses the fake."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from automation.api import CMLClient
from automation.spec import Spec
from automation.workflows.bootstrap import bootstrap
from fakes.fake_cml import FakeCML
from fakes.specs import make_spec


@pytest.fixture
def fake() -> Iterator[FakeCML]:
    """An empty CML workspace; afterwards, every request must have hit a known API v2 route."""
    with FakeCML.running(experiment_name="wine-test") as workspace:
        yield workspace
    assert workspace.unrouted == [], f"requests outside the API v2 subset: {workspace.unrouted}"


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
