"""Which run of a dependent job its parent's run started: by creation time, whatever the precision."""

from __future__ import annotations

import pytest

from automation.api.types import JobRun
from automation.errors import WaitTimeout
from automation.reconcile.chain import follow_chain, started_after


def run(run_id: str, created_at: str) -> JobRun:
    return JobRun(id=run_id, status="ENGINE_SUCCEEDED", created_at=created_at)


def test_the_earliest_run_created_after_the_parent_began_is_the_childs() -> None:
    parent = run("p", "2026-12-01T10:00:00.123456789Z")  # nanoseconds, as some servers write them
    runs = [
        run("before", "2026-12-01T09:59:59.999Z"),
        run("later", "2026-12-01T10:05:00Z"),
        run("first", "2026-12-01T11:00:01.5+01:00"),  # 10:00:01.5 UTC
    ]
    assert started_after(runs, parent).id == "first"
    assert started_after([runs[0]], parent) is None
    assert started_after([run("x", "not a time")], parent) is None  # never a run of unknown age
    assert started_after(runs, run("p", "")).id == "before"  # a parent of unknown age: any run counts


def test_a_child_run_created_in_the_same_instant_as_its_parent_counts() -> None:
    parent = run("p", "2026-12-01T10:00:00Z")  # second-precision servers stamp both alike
    assert started_after([run("same", "2026-12-01T10:00:00Z")], parent).id == "same"


def test_a_run_of_unknown_age_is_never_taken_when_the_parent_has_one() -> None:
    parent = run("p", "2026-12-01T10:00:00Z")
    undated = run("undated", "")
    assert started_after([undated], parent) is None
    assert started_after([undated, run("dated", "2026-12-01T10:00:03Z")], parent).id == "dated"
    assert started_after([undated], run("q", "")).id == "undated"


def test_a_child_that_never_starts_times_out_at_the_chains_deadline(fake, client) -> None:
    project, root, lonely, root_run = _root_and_job(fake, client, "chain", "lonely")
    clock = client.jobs.clock
    clock.advance(1000)  # the deadline is counted from now, not from the clock's origin
    began = clock.now()
    with pytest.raises(WaitTimeout, match="lonely"):  # not a child of root: the fake never starts it
        follow_chain(client, project.id, root_run, [("root", root.id), ("lonely", lonely.id)], timeout=120)
    waited = clock.now() - began
    assert 120 <= waited < 180, waited
    fake.calls.clear()


def test_a_child_wait_gets_at_least_a_second_when_the_parent_used_up_the_deadline(fake, client) -> None:
    project, root, lonely, root_run = _root_and_job(fake, client, "late", "lonely")
    _until_succeeded(client, project.id, root.id, root_run.id)
    clock = client.jobs.clock
    began = clock.now()
    with pytest.raises(WaitTimeout, match="lonely"):
        follow_chain(client, project.id, root_run, [("root", root.id), ("lonely", lonely.id)], timeout=0.25)
    assert 1 <= clock.now() - began < 2, clock.sleeps
    fake.calls.clear()


def test_with_a_parent_of_unknown_age_dated_runs_come_before_undated_ones() -> None:
    unknown = run("p", "")
    undated, dated = run("undated", "garbled"), run("dated", "2026-12-01T10:00:03Z")
    assert started_after([undated, dated], unknown).id == "dated"
    assert started_after([dated, undated], unknown).id == "dated"


def test_a_child_run_that_never_finishes_is_bounded_by_the_chain_and_floored_at_1_s(fake, client) -> None:
    project, root, child, root_run = _root_and_job(fake, client, "stuck", "child")
    _until_succeeded(client, project.id, root.id, root_run.id)
    fake.job_outcome = None  # runs started from now on stay ENGINE_RUNNING
    client.jobs.start_run(project.id, child.id)  # as if the root's success had started it
    clock = client.jobs.clock
    clock.advance(1000)
    began = clock.now()
    with pytest.raises(WaitTimeout):
        follow_chain(client, project.id, root_run, [("root", root.id), ("child", child.id)], timeout=0.25)
    assert 1 <= clock.now() - began < 2, clock.sleeps
    fake.calls.clear()


def _root_and_job(fake, client, project_name: str, job_name: str):
    """A project with a job ``root`` (one run started) and a job ``job_name`` that is not its child."""
    project = client.projects.create(project_name, description="")
    runtime = fake.runtimes[0]["image_identifier"]
    root = client.jobs.create(project.id, name="root", script="a.py", runtime_identifier=runtime)
    other = client.jobs.create(project.id, name=job_name, script="a.py", runtime_identifier=runtime)
    return project, root, other, client.jobs.start_run(project.id, root.id)


def _until_succeeded(client, project_id: str, job_id: str, run_id: str) -> None:
    """Read the run until it succeeded: the fake moves a run on at each read, so the chain's own wait
    then finds it finished at once."""
    while client.jobs.get_run(project_id, job_id, run_id).status != "ENGINE_SUCCEEDED":
        pass
