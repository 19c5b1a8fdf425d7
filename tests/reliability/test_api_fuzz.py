"""schemathesis fuzzes the local server's API v2 from its own OpenAPI document: no answer may be a 5xx.

Bounded for CI: every GET operation plus POST /api/v2/projects, a few examples each, against a
fresh (fault-free) local workspace.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from reliability_support import free_port

from automation.local import control
from automation.local.control import LocalWorkspace

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 20


def _openapi(state_dir: Path) -> dict[str, Any]:
    """The server's OpenAPI document (not served over HTTP: the app is built here just to read it)."""
    from automation.local.app import create_app
    from automation.local.state.paths import StatePaths
    from automation.local.workspace import Workspace

    paths = StatePaths.of(state_dir)
    paths.ensure()
    return create_app(Workspace.open(paths, 1, logging.getLogger("cmlops.fuzz"))).openapi()


@pytest.fixture(scope="module")
def clean_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWorkspace]:
    state_dir = tmp_path_factory.mktemp("fuzz") / ".cmlops"
    workspace = control.start(state_dir, port=free_port(), wait=60)
    try:
        yield workspace
    finally:
        control.stop(state_dir)


def _operations(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    doc = _openapi(tmp_path_factory.mktemp("openapi") / ".cmlops")
    schema = schemathesis.openapi.from_dict(doc)
    ops = [result.ok() for result in schema.get_all_operations()]
    return [
        op
        for op in ops
        if op.path.startswith("/api/v2")
        and (op.method.upper() == "GET" or (op.method.upper(), op.path) == ("POST", "/api/v2/projects"))
    ]


def test_no_operation_answers_5xx(clean_workspace: LocalWorkspace, tmp_path_factory) -> None:
    headers = {"Authorization": f"Bearer {clean_workspace.api_key}"}
    operations = _operations(tmp_path_factory)
    assert len(operations) >= 20
    calls: dict[str, int] = {}
    failures: list[str] = []

    def fuzzer(op: Any) -> Any:
        label = f"{op.method.upper()} {op.path}"

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy())
        def fuzz(case: Any) -> None:
            response = case.call(base_url=clean_workspace.url, headers=headers, timeout=30)
            calls[label] = calls.get(label, 0) + 1
            if response.status_code >= 500:
                failures.append(f"{label} -> {response.status_code}: {response.text[:200]}")

        return fuzz

    for op in operations:
        fuzzer(op)()
    print(
        f"\nschemathesis: {len(operations)} operations, {sum(calls.values())} requests, 5xx: {len(failures)}"
    )
    assert not failures, failures[:10]
