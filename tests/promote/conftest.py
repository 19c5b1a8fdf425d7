"""Fixtures for the promotion tests: a bootstrapped fake workspace (PromoteFake), the spec with gates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.fixtures import client, converged, swagger_problems  # noqa: F401
from fakes.specs import make_spec
from promote_fake import PromoteFake
from promote_support import GATES

from automation.spec import Spec


@pytest.fixture
def fake() -> Iterator[PromoteFake]:
    """An empty fake CML workspace; afterwards every request must have hit a known route."""
    with PromoteFake.running(experiment_name="wine-test") as workspace:
        yield workspace
    assert workspace.unrouted == [], f"requests outside the API v2 subset: {workspace.unrouted}"
    problems = swagger_problems(workspace.calls)
    assert problems == [], "requests CML would not take as sent:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def spec() -> Spec:
    """The reconcile tests' spec plus the "no worse than PRD" gate."""
    return make_spec({"model": {"gates": GATES}})
