"""What real workspaces do that our own servers would not: a missing Model Registry, job PATCHes
CML ignores. Each test sets the fake up the way a live workspace behaves."""

from __future__ import annotations

import pytest
from fakes.fake_cml import FakeCML

from automation.errors import EXIT_USAGE, RegistryUnavailable
from automation.reconcile import make_plan
from automation.workflows.bootstrap import bootstrap


def test_a_workspace_without_the_registry_gets_one_clear_error_before_any_write(
    fake: FakeCML, client, spec
) -> None:
    fake.registry_enabled = False

    with pytest.raises(RegistryUnavailable) as info:
        bootstrap(client, spec)

    assert info.value.exit_code == EXIT_USAGE
    assert "Model Registry" in str(info.value) and "nothing was written" in str(info.value)
    assert fake.writes() == []
    with pytest.raises(RegistryUnavailable):
        make_plan(client, spec)  # plan says it too


def test_a_converged_workspace_that_loses_its_registry_is_named_too(converged: FakeCML, client, spec) -> None:
    converged.registry_enabled = False

    with pytest.raises(RegistryUnavailable):
        bootstrap(client, spec)

    assert converged.writes() == []
