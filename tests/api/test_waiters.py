"""Waiters on a fake clock with scripted polls: success, failure, timeout, backoff, odd statuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from automation.api import CMLClient
from automation.api.base import WaitEvent, wait_for
from automation.clock import FakeClock
from automation.errors import (
    EXIT_BUILD_FAILED,
    EXIT_DEPLOY_FAILED,
    EXIT_FAILURE,
    EXIT_JOB_FAILED,
    EXIT_TIMEOUT,
    BuildFailed,
    DeploymentFailed,
    JobRunFailed,
    NotFound,
    WaitTimeout,
    WorkloadFailed,
)
from automation.http import HttpClient, RetryPolicy

from .wire import API_KEY, BASE, Wire, build, deployment, job_run, model_version, project

RUN = "/api/v2/projects/p1/jobs/j1/runs/r1"
BUILD = "/api/v2/projects/prd1/models/m1/builds/b1"
DEPLOY = "/api/v2/projects/prd1/models/m1/builds/b1/deployments/d1"
VERSION = "/api/v2/registry/models/rm-1/versions/v1"
PROJECT = "/api/v2/projects/p1"

BACKOFF = [2.0, 3.0, 4.5, 6.75, 10.125, 15.0, 15.0, 15.0]


def script(wire: Wire, path: str, bodies: list[dict[str, Any]]) -> None:
    for body in bodies:
        wire.expect("GET", path, reply=body)


# kind -> (call the waiter, path polled, body for a status, success, failure, error class, exit code)
KINDS: dict[str, tuple[Callable[..., Any], str, Callable[[str], dict[str, Any]], str, str, type, int]] = {
    "run": (
        lambda c, **kw: c.jobs.wait_run("p1", "j1", "r1", **kw),
        RUN,
        lambda s: job_run("r1", s),
        "ENGINE_SUCCEEDED",
        "ENGINE_FAILED",
        JobRunFailed,
        EXIT_JOB_FAILED,
    ),
    "build": (
        lambda c, **kw: c.models.wait_build("prd1", "m1", "b1", **kw),
        BUILD,
        lambda s: build("b1", s),
        "built",
        "build failed",
        BuildFailed,
        EXIT_BUILD_FAILED,
    ),
    "deployment": (
        lambda c, **kw: c.models.wait_deployment("prd1", "m1", "b1", "d1", **kw),
        DEPLOY,
        lambda s: deployment("d1", s),
        "deployed",
        "failed",
        DeploymentFailed,
        EXIT_DEPLOY_FAILED,
    ),
    "version": (
        lambda c, **kw: c.registry.wait_version("rm-1", "v1", **kw),
        VERSION,
        lambda s: model_version("v1", s),
        "READY",
        "FAILED",
        WorkloadFailed,
        EXIT_FAILURE,
    ),
    "project": (
        lambda c, **kw: c.projects.wait_created("p1", **kw),
        PROJECT,
        lambda s: project("p1", creation_status=s),
        "success",
        "failure",
        WorkloadFailed,
        EXIT_FAILURE,
    ),
}
BUSY = {
    "run": "ENGINE_RUNNING",
    "build": "pushing",
    "deployment": "deploying",
    "version": "PENDING",
    "project": "creating",
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_success_after_intermediate_and_unknown_statuses(
    kind: str, client: CMLClient, ordered: Wire, clock: FakeClock
) -> None:
    call, path, body, ok, _bad, _cls, _code = KINDS[kind]
    busy = BUSY[kind]
    script(ordered, path, [body(busy), body("a status from the future"), body(busy), body(ok)])
    events: list[WaitEvent] = []

    got = call(client, timeout=600, on_progress=events.append)

    assert got is not None
    assert clock.sleeps == BACKOFF[:3]
    assert [e.status for e in events] == [busy, "a status from the future", busy, ok]
    assert [e.done for e in events] == [False, False, False, True]
    assert events[-1].elapsed == pytest.approx(sum(BACKOFF[:3]))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_failure_raises_the_kind_error_with_the_status(
    kind: str, client: CMLClient, ordered: Wire, clock: FakeClock
) -> None:
    call, path, body, _ok, bad, cls, code = KINDS[kind]
    script(ordered, path, [body(BUSY[kind]), body(bad)])

    with pytest.raises(cls) as info:
        call(client, timeout=600)

    assert info.value.exit_code == code
    assert info.value.status == bad
    assert repr(bad) in info.value.message
    assert clock.sleeps == [2.0]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_timeout_names_the_last_status(kind: str, client: CMLClient, ordered: Wire, clock: FakeClock) -> None:
    call, path, body, *_ = KINDS[kind]
    # polls at t = 0, 2, 5, 9.5, 16.25; the last sleep is cut to the deadline; a final poll at t = 20
    script(ordered, path, [body(BUSY[kind])] * 6)

    with pytest.raises(WaitTimeout) as info:
        call(client, timeout=20)

    assert info.value.exit_code == EXIT_TIMEOUT
    assert info.value.last_status == BUSY[kind]
    assert repr(BUSY[kind]) in info.value.message and "20s" in info.value.message
    assert clock.sleeps == [2.0, 3.0, 4.5, 6.75, 3.75]
    assert clock.now() == 20


def test_poll_interval_backs_off_to_a_15s_cap(client: CMLClient, ordered: Wire, clock: FakeClock) -> None:
    script(ordered, RUN, [job_run("r1", "ENGINE_RUNNING")] * 8 + [job_run("r1", "ENGINE_SUCCEEDED")])

    assert client.jobs.wait_run("p1", "j1", "r1", timeout=3600).status == "ENGINE_SUCCEEDED"
    assert clock.sleeps == BACKOFF


def test_build_status_is_compared_lowercase(client: CMLClient, ordered: Wire) -> None:
    script(ordered, BUILD, [build("b1", "BUILT")])

    assert client.models.wait_build("prd1", "m1", "b1").status == "BUILT"


@pytest.mark.parametrize("status", ["ENGINE_STOPPING", "ENGINE_UNKNOWN"])
def test_non_terminal_run_statuses_keep_waiting(status: str, client: CMLClient, ordered: Wire) -> None:
    script(ordered, RUN, [job_run("r1", status), job_run("r1", "ENGINE_STOPPED")])

    with pytest.raises(JobRunFailed) as info:
        client.jobs.wait_run("p1", "j1", "r1")

    assert info.value.status == "ENGINE_STOPPED"
    assert "cmlops local logs r1" in str(info.value)  # says where to look


def test_version_error_message_is_a_failure_with_that_hint(client: CMLClient, ordered: Wire) -> None:
    script(ordered, VERSION, [model_version("v1", "", error_message="artifact not found at model/")])

    with pytest.raises(WorkloadFailed) as info:
        client.registry.wait_version("rm-1", "v1")

    assert info.value.hint == "artifact not found at model/"


def test_a_transient_server_error_during_polling_is_tolerated(ordered: Wire, clock: FakeClock) -> None:
    http = HttpClient(BASE, API_KEY, clock=clock, retry=RetryPolicy(max_attempts=1))
    client = CMLClient(http, clock=clock)
    ordered.expect("GET", RUN, reply=job_run("r1", "ENGINE_RUNNING"))
    ordered.expect("GET", RUN, status=502, reply="<html>bad gateway</html>")
    ordered.expect("GET", RUN, reply=job_run("r1", "ENGINE_SUCCEEDED"))

    assert client.jobs.wait_run("p1", "j1", "r1").status == "ENGINE_SUCCEEDED"
    assert clock.sleeps == [2.0, 3.0]


def test_a_client_error_during_polling_is_raised(client: CMLClient, ordered: Wire) -> None:
    ordered.expect("GET", RUN, status=404, reply={"code": 5, "message": "run r1 not found"})

    with pytest.raises(NotFound) as info:
        client.jobs.wait_run("p1", "j1", "r1")

    assert "run r1 not found" in str(info.value)


def test_wait_for_with_custom_states_and_interval() -> None:
    clock = FakeClock()
    statuses = iter(["warming", "warming", "hot"])

    got = wait_for(
        lambda: next(statuses),
        what="oven",
        status_of=str,
        success={"hot"},
        failure={"burnt"},
        timeout=100,
        clock=clock,
        interval=1,
        max_interval=1.5,
        backoff=2,
    )

    assert got == "hot"
    assert clock.sleeps == [1, 1.5]


def _down(after_ok: int):
    """A fetch that answers ``after_ok`` times, then finds nobody at the address (a dead server)."""
    from automation.errors import TransportError

    calls = {"n": 0}

    def fetch() -> str:
        calls["n"] += 1
        if calls["n"] <= after_ok:
            return "running"
        raise TransportError("GET /x: cannot reach http://127.0.0.1:9 (connection refused)")

    return fetch


def test_a_workspace_that_stops_answering_fails_the_wait_fast_with_the_cause() -> None:
    from automation.errors import EXIT_UNREACHABLE, TransportError

    clock = FakeClock()
    events: list[WaitEvent] = []
    with pytest.raises(TransportError) as info:
        wait_for(
            _down(after_ok=2),
            what="job run r1",
            status_of=str,
            success={"done"},
            failure={"failed"},
            timeout=900,
            clock=clock,
            interval=0.25,
            max_interval=1.0,
            on_progress=events.append,
        )
    assert clock.now() < 30  # not the step's 900 s timeout
    assert info.value.exit_code == EXIT_UNREACHABLE
    assert "stopped answering while waiting for job run r1" in info.value.message
    assert "connection refused" in info.value.message and "cmlops local status" in info.value.hint
    silent = [e for e in events if e.status.startswith("workspace not answering")]
    assert silent and "connection refused" in silent[0].status  # reported on each poll, not silent


def test_an_outage_shorter_than_the_limit_is_ridden_out() -> None:
    clock = FakeClock()
    answers = iter(["running", "DOWN", "DOWN", "running", "DOWN", "done"])

    def fetch() -> str:
        from automation.errors import TransportError

        value = next(answers)
        if value == "DOWN":
            raise TransportError("connection refused")
        return value

    got = wait_for(
        fetch,
        what="x",
        status_of=str,
        success={"done"},
        failure=set(),
        timeout=900,
        clock=clock,
        interval=10,
        max_interval=10,
        backoff=1,
        outage_limit=25,
    )
    assert got == "done"  # 20 s down, back, 10 s down: never 25 s in a row
