"""The session's bootstrapped local workspace (see local_bootstrap.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from e2e.local_bootstrap import Bootstrapped, release, shared_bootstrap


@pytest.fixture(scope="session")
def boot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bootstrapped]:
    value = shared_bootstrap(tmp_path_factory)
    yield value
    release(value)
