"""Fixtures for the API v2 client tests: a strict mock, a fake clock and a trace collector.

Every test here runs inside ``responses`` in strict mode (each registered answer must be used) and
ends with a check that neither the API key, nor a model access key, nor a bearer value appeared in
any trace line the HTTP core emitted.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from responses.registries import OrderedRegistry

from automation.api import CMLClient
from automation.clock import FakeClock
from automation.http import HttpClient, RetryPolicy

from .wire import ACCESS_KEY, API_KEY, BASE, MaxJitter, Wire


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def trace_lines() -> list[str]:
    return []


@pytest.fixture
def retry() -> RetryPolicy:
    return RetryPolicy(rng=MaxJitter())


@pytest.fixture
def http(clock: FakeClock, trace_lines: list[str], retry: RetryPolicy) -> HttpClient:
    return HttpClient(BASE, API_KEY, clock=clock, trace=trace_lines.append, retry=retry)


@pytest.fixture
def client(http: HttpClient, clock: FakeClock) -> CMLClient:
    return CMLClient(http, clock=clock)


@pytest.fixture
def wire() -> Iterator[Wire]:
    """Any order; every registered answer must be used."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield Wire(mock)


@pytest.fixture
def ordered() -> Iterator[Wire]:
    """Answers must be requested in exactly the registered order (scripted polls)."""
    with responses.RequestsMock(assert_all_requests_are_fired=True, registry=OrderedRegistry) as mock:
        yield Wire(mock)


@pytest.fixture(autouse=True)
def _no_secret_in_trace(trace_lines: list[str]) -> Iterator[None]:
    yield
    for line in trace_lines:
        assert API_KEY not in line, line
        assert ACCESS_KEY not in line, line
        assert "Bearer " not in line or "Bearer ***" in line, line
